"""Each fixed-point method's own options: their defaults and their checks."""

from __future__ import annotations

from .._validation import check_int, check_real


class MethodDefault:
    """Marks an option left to the method's default (shown as such in signatures)."""

    def __repr__(self):
        return "<method default>"


METHOD_DEFAULT = MethodDefault()

# Each method's own options and their defaults; an option given to another method is an
# error rather than silently ignored.
METHODS = {
    "iterate": {},
    "mann": {"relaxation": 0.5},
    "halpern": {"restart": None},
    "anderson": {"m": 10, "regularization": 0.0, "damping": 1.0, "safeguard": 1.0},
    "aitken": {},
}


def check_restart(value):
    """Halpern's ``restart``: None, a positive integer or ``"adaptive"``."""
    if value is None or value == "adaptive":
        return value
    if isinstance(value, str):
        raise ValueError(f"`restart` must be None, a positive integer or 'adaptive'; got {value!r}")
    return check_int("restart", value, low=1)


def check_method_option(name: str, value):
    """The option ``name`` of a method, checked and normalised."""
    if name == "relaxation":
        return check_real("relaxation", value, low=0, high=2, low_open=True, high_open=True)
    if name == "m":
        return check_int("m", value, low=1)
    if name == "regularization":
        return check_real("regularization", value, low=0)
    if name == "damping":
        return check_real("damping", value, low=0, high=1, low_open=True)
    if name == "safeguard":
        return None if value is None else check_real("safeguard", value, low=1)
    if name == "restart":
        return check_restart(value)
    raise AssertionError(name)


def method_options(method: str, given: dict) -> dict:
    """``method``'s options: its defaults, overridden by the ``given`` ones not left to it.

    An option of another method is a ValueError naming it.
    """
    options = dict(METHODS[method])
    for name, value in given.items():
        if value is METHOD_DEFAULT:
            continue
        if name not in options:
            raise ValueError(f"`{name}` does not apply to method={method!r}")
        options[name] = check_method_option(name, value)
    return options
