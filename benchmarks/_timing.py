"""Timing helpers the benchmarks share: one call timed, and contenders timed in rounds."""

from __future__ import annotations

import time


def timed(call):
    """``(seconds, output)`` of one call of ``call()``."""
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def interleaved(contenders: dict, repeats: int, outputs=None) -> dict[str, list[float]]:
    """Each contender once per round, rotating the order; one untimed warm-up call each
    (JIT compilation stays out of the times), whose result goes into ``outputs`` if given.

    Rotating keeps a slow drift of the machine (another process, thermal throttling) from
    landing on one contender only.
    """
    for name, call in contenders.items():
        out = call()
        if outputs is not None:
            outputs[name] = out
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(timed(contenders[name])[0])
    return times
