"""Issue 12's probes, one subprocess each, classified as the issue counts them.

Run it with the interpreter of the itersolve to probe (the "before" column of the closing
note comes from an install of the commit before the issue, the "after" from main):

    .venv/bin/python benchmarks/hardening_probes.py [--json out.json] [--timeout 60]

Each probe is a snippet defining ``call()`` (the public call) and ``right(result)`` (an
independent check of a result that claims success). Outcomes:

``CRASH``      the interpreter died on a signal (segmentation fault)
``HANG``       no answer within the time-out
``WRONG``      ``success=True`` but the independent check fails
``FOREIGN``    an exception from inside Numba/NumPy/SciPy/SymPy (or any non-itersolve
               frame), a leaked warning (warnings are errors here), or a CLI traceback
``EXECUTED``   a polynomial string ran code
``UNNAMED``    itersolve's own ValueError/TypeError whose message names no argument
``rejected``   itersolve's own ValueError/TypeError naming the argument
``status``     a non-success status with a message
``solved``     ``success=True`` and the independent check passes
``exit 2``     the CLI printed one line on stderr and exited 2
"""

# ruff: noqa: E501  (the probes are code snippets kept on one line each, as a user would type them)
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CHILD = r'''
import json, os, sys, traceback, warnings
warnings.simplefilter("error")
import numpy as np
import itersolve
import itersolve._cli
from itersolve import *
OWN = os.path.dirname(itersolve.__file__)
def report(kind, detail=""):
    print("@@" + json.dumps({"kind": kind, "detail": str(detail)[:160]}))
def classify(exc):
    frame = traceback.extract_tb(exc.__traceback__)[-1].filename if exc.__traceback__ else ""
    where = "itersolve" if ("/itersolve/" in frame or "/gpu/" in frame or "/theory/" in frame) \
        else os.path.basename(os.path.dirname(frame)) + "/" + os.path.basename(frame)
    if isinstance(exc, (ValueError, TypeError)) and where == "itersolve":
        # the contract: the message names the argument at fault, in backticks
        named = "`" in str(exc) or "'" in str(exc).split(":")[0]
        return report("rejected" if named else "UNNAMED", f"{type(exc).__name__}: {exc}")
    return report("FOREIGN", f"{type(exc).__name__} from {where}: {exc}")
right = lambda r: True
cli = None
try:
%s
    if cli is not None:
        import contextlib, io
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = itersolve._cli.main(cli)
        lines = [l for l in err.getvalue().splitlines() if l.strip()]
        if "Traceback" in err.getvalue():
            report("FOREIGN", "traceback on stderr")
        elif code == 2 and len(lines) == 1:
            report("exit 2", lines[0])
        else:
            report(f"exit {code}", f"{len(lines)} stderr lines: " + " | ".join(lines)[:120])
    else:
        result = call()
        if getattr(result, "success", False):
            report("solved" if right(result) else "WRONG", repr(result)[:160])
        else:
            status = getattr(result, "status", None)
            report("status", f"{getattr(status, 'name', status)}: "
                   + getattr(result, "message", repr(result))[:140])
except Exception as exc:
    classify(exc)
except BaseException as exc:
    report("FOREIGN", f"{type(exc).__name__}: {exc}")
'''

A4 = "A = np.array([[4.,-1,0,0],[-1,4,-1,0],[0,-1,4,-1],[0,0,-1,4]]); b = np.ones(4)"
GO = '["29*x**3/16 - 2*x*y", "x**2 - y"], ["x", "y"]'
ROT6 = """
def T(x):
    # rotations in two planes, translated along the third plane, which T leaves alone:
    # nonexpansive, no fixed point, infimal displacement v = -(0, 0, 0, 0, 1, 0.5)
    y = x.copy()
    for i, angle in enumerate((0.3, 1.1)):
        c, s = np.cos(angle), np.sin(angle)
        y[2*i], y[2*i+1] = c*x[2*i] - s*x[2*i+1], s*x[2*i] + c*x[2*i+1]
    return y + np.array([1.0, 0, 0.5, 0, 1.0, 0.5])
"""

PROBES = [
    # class, name, snippet
    (1, "relax: ordering rows out of range", f"""
{A4}
def call():
    relax(A, np.zeros(4), b, omega=1.0, ordering=(np.arange(4) + 1000, np.array([0, 4])))
    report("WRONG", "accepted rows outside the matrix"); sys.exit(0)"""),
    (1, "relax: colouring repeats a row", f"""
{A4}
def call():
    x = np.zeros(4); relax(A, x, b, omega=1.0, ordering=(np.array([0, 0, 1, 2]), np.array([0, 4])))
    report("WRONG", f"swept row 0 twice and row 3 never: x = {{x}}"); sys.exit(0)"""),
    (1, "relax: negative row in a colouring", f"""
{A4}
def call():
    x = np.zeros(4); relax(A, x, b, omega=1.0, ordering=(np.array([-1, 1, 2, 3]), np.array([0, 4])))
    report("WRONG", f"accepted row -1: x = {{x}}"); sys.exit(0)"""),
    (1, "sor: CSR with a column index out of range", """
import scipy.sparse as sp
A = sp.csr_matrix((np.array([4., -1, 4]), np.array([0, 7, 1]), np.array([0, 2, 3])), shape=(2, 2))
call = lambda: sor(A, np.ones(2))
right = lambda r: False  # the matrix is invalid: any answer is a guess"""),
    (2, "sor: b = 1e-170", """
call = lambda: sor(np.array([[2.0]]), np.array([1e-170]))
right = lambda r: abs(r.x[0] - 5e-171) <= 1e-8 * 5e-171"""),
    (2, "sor: b near 1e153", f"""
{A4}
call = lambda: sor(A, b * 1e153)
right = lambda r: np.allclose(r.x, np.linalg.solve(A, b * 1e153), rtol=1e-6)"""),
    (2, "ssor_pcg: b * 1e-160", f"""
{A4}
call = lambda: ssor_pcg(A, b * 1e-160)
right = lambda r: np.allclose(r.x, np.linalg.solve(A, b * 1e-160), rtol=1e-6, atol=0)"""),
    (2, "sor: omega='auto' with Jacobi radius 0", """
A = np.diag([2.0, 3.0, 4.0]); b = np.ones(3)
call = lambda: sor(A, b, omega="auto")
right = lambda r: np.allclose(r.x, b / np.diag(A)) and 0 < r.stats["omega"] < 2"""),
    (2, "sor: omega='auto' with Jacobi radius 1e-9", """
A = np.array([[1.0, 1e-9], [1e-9, 1.0]]); b = np.ones(2)
call = lambda: sor(A, b, omega="auto")
right = lambda r: np.allclose(r.x, np.linalg.solve(A, b)) and 0 < r.stats["omega"] < 2"""),
    (3, "ssor_pcg: float32, rtol 1e-6", """
import scipy.sparse as sp
n = 400; A = sp.diags([-1, 2.001, -1], [-1, 0, 1], shape=(n, n), format="csr").astype(np.float32)
b = np.ones(n, dtype=np.float32)
call = lambda: ssor_pcg(A, b, rtol=1e-6)
right = lambda r: np.linalg.norm(b.astype(float) - A.astype(float) @ r.x.astype(float)) <= 1e-6 * np.linalg.norm(b)"""),
    (3, "ssor_pcg: rtol 1e-14", """
import scipy.sparse as sp
n = 400; A = sp.diags([-1, 2.0001, -1], [-1, 0, 1], shape=(n, n), format="csr"); b = np.ones(n)
call = lambda: ssor_pcg(A, b, rtol=1e-14)
right = lambda r: np.linalg.norm(b - A @ r.x) <= 1e-14 * np.linalg.norm(b)"""),
    (3, "singular_newton: inconsistent x, x - 1", """
call = lambda: singular_newton(PolynomialSystem(["x", "x - 1"], ["x"]), [0.3])
right = lambda r: False"""),
    (3, "feasibility: project_b not a projection", """
pa = lambda x: np.clip(x, -1, 1)
pb = lambda x: x + 10.0
call = lambda: feasibility(pa, pb, np.zeros(2))
right = lambda r: np.linalg.norm(pb(r.x) - r.x) < 1e-6 and np.linalg.norm(pa(r.x) - r.x) < 1e-6"""),
    (3, "linprog: complex c", """
call = lambda: linprog(np.array([1 + 1j, 1]), A_eq=np.ones((1, 2)), b_eq=np.ones(1), bounds=(0, None))
right = lambda r: False"""),
    (3, "bradley_terry: complex weights", """
d = PairwiseData.from_pairs([0, 1, 2, 0], [1, 2, 0, 2], weights=np.ones(4) * (1 + 1j))
call = lambda: bradley_terry(d)
right = lambda r: False"""),
    (3, "sor: complex x0", f"""
{A4}
call = lambda: sor(A, b, x0=np.ones(4) * 1j)
right = lambda r: False"""),
    (4, "bradley_terry: n_items=3.0", """
call = lambda: bradley_terry(PairwiseData.from_pairs([0, 1, 2, 0], [1, 2, 0, 2]), n_items=3.0)"""),
    (4, "bradley_terry: prior=1e-6", """
d = PairwiseData.from_pairs([0, 0, 1], [1, 2, 2])
call = lambda: bradley_terry(d, prior=1e-6)
def right(r):
    from scipy.optimize import minimize
    w, l = np.array([0, 0, 1]), np.array([1, 2, 2])
    def f(s):  # negative log-posterior of Newman's MAP prior (one virtual win and loss against a dummy of score 0)
        return -(np.sum(s[w] - np.logaddexp(s[w], s[l])) + 1e-6 * np.sum(-np.logaddexp(0, s) - np.logaddexp(0, -s)))
    s = minimize(f, np.zeros(3), method="BFGS", options={"gtol": 1e-12}).x
    got = np.log(np.asarray(r.x)) if np.all(np.asarray(r.x) > 0) else np.asarray(r.x)
    return np.allclose(got - got.mean(), s - s.mean(), atol=1e-2)"""),
    (4, "PairwiseData: mixed-type labels", """
call = lambda: bradley_terry(PairwiseData.from_pairs(["a", 1, "b"], [1, "b", "a"]))
right = lambda r: True"""),
    (4, "PairwiseData: missing label", """
call = lambda: bradley_terry(PairwiseData.from_pairs(["a", None, "b"], ["b", "a", "a"]))
right = lambda r: False"""),
    (4, "jacobi_spectral_radius: NaN", """
import scipy.sparse as sp
A = sp.random(300, 300, density=0.02, format="csr", random_state=0) + sp.eye(300) * 4
A = A.tocsr(); A.data[3] = np.nan
call = lambda: jacobi_spectral_radius(A)"""),
    (4, "fixed_point: float16 Anderson", """
call = lambda: fixed_point(lambda x: np.cos(x), np.zeros(3, dtype=np.float16), method="anderson", rtol=1e-2)
right = lambda r: np.allclose(np.cos(r.x.astype(float)), r.x.astype(float), atol=1e-2)"""),
    (4, "sor: rng='x'", f"""
{A4}
call = lambda: sor(A, b, omega="auto", rng="x")"""),
    (4, "fixed_point: non-numeric x0", """
call = lambda: fixed_point(lambda x: x, ["a", "b"])"""),
    (4, "fixed_point: map returns None", """
call = lambda: fixed_point(lambda x: None, np.zeros(2))"""),
    (4, "find_roots: roots of the wrong type (weight='x')", """
call = lambda: find_roots(lambda x: x**2 - 1, np.array([0.5]), weight="x")"""),
    (4, "newton: F returns None", """
call = lambda: newton(lambda x: None, np.array([0.5]))"""),
    (5, "PolynomialSystem: code in a string", """
import tempfile
target = os.path.join(tempfile.mkdtemp(), "pwned")
def call():
    try:
        PolynomialSystem([f"__import__('pathlib').Path({target!r}).touch() or x"], ["x"])
    finally:
        if os.path.exists(target):
            report("EXECUTED", "the string created a file"); sys.exit(0)"""),
    (7, "newton: x^2 + 1, maxiter=None", """
call = lambda: newton(lambda x: x**2 + 1, np.array([0.5]), maxiter=None)
right = lambda r: False"""),
    (7, "find_roots: sin, maxiter=None", """
call = lambda: find_roots(np.sin, np.array([0.5]), maxiter=None)
right = lambda r: all(abs(np.sin(np.asarray(x))).max() < 1e-8 for x in r.roots)"""),
    (7, "fixed_point: no fixed point, maxiter=None", """
call = lambda: fixed_point(lambda x: x + 1, np.zeros(2), maxiter=None)
right = lambda r: False"""),
    (7, "singular_newton: Griewank-Osborne from (0.02, 0.01)", f"""
call = lambda: singular_newton(PolynomialSystem({GO}), [0.02, 0.01])
right = lambda r: np.linalg.norm(r.x) < 1e-6"""),
    (8, "infimal_displacement: translated rotation, defaults", ROT6 + """
call = lambda: infimal_displacement(T, np.zeros(6))
right = lambda r: np.allclose(r.x, [0, 0, 0, 0, -1, -0.5], atol=1e-5)  # v = x - T(x)"""),
    (9, "cli solve: empty Matrix Market file", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "A.mtx"); open(p, "w").close()
cli = ["solve", p]"""),
    (9, "cli solve: absurd Matrix Market header", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "A.mtx")
open(p, "w").write("%%MatrixMarket matrix coordinate real general\\n10000000000 10000000000 5\\n1 1 1.0\\n")
cli = ["solve", p]"""),
    (9, "cli solve: a directory as the matrix", """
import tempfile; cli = ["solve", tempfile.mkdtemp()]"""),
    (9, "cli rank: CSV with a BOM", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "games.csv")
open(p, "w", encoding="utf-8-sig").write("winner,loser\\na,b\\nb,c\\nc,a\\na,c\\n")
cli = ["rank", p, "--winner", "winner", "--loser", "loser"]"""),
    (9, "cli rank: undecodable bytes", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "games.csv")
open(p, "wb").write(b"winner,loser\\n\\xff\\xfe\\xfa,b\\nb,a\\n")
cli = ["rank", p, "--winner", "winner", "--loser", "loser"]"""),
    (9, "cli rank: a prior that overflows", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "games.csv")
open(p, "w").write("winner,loser\\na,b\\nb,c\\nc,a\\n")
cli = ["rank", p, "--winner", "winner", "--loser", "loser", "--prior", "1e308"]"""),
    (10, "cli solve: SOR diverges (overflow on the way)", """
import tempfile; p = os.path.join(tempfile.mkdtemp(), "A.mtx")
open(p, "w").write("%%MatrixMarket matrix array real general\\n2 2\\n1\\n3\\n3\\n1\\n")
cli = ["solve", p, "--maxiter", "2000"]"""),
    (9, "cli rank: a directory as the file", """
import tempfile; cli = ["rank", tempfile.mkdtemp(), "--winner", "w", "--loser", "l"]"""),
]


def run_probe(snippet: str, timeout: float) -> dict:
    code = CHILD % textwrap.indent(textwrap.dedent(snippet).strip("\n"), "    ")
    try:
        process = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"kind": "HANG", "detail": f"no answer in {timeout:.0f} s"}
    if process.returncode < 0:
        return {"kind": "CRASH", "detail": f"signal {-process.returncode}"}
    for line in process.stdout.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    return {"kind": "FOREIGN", "detail": (process.stderr.strip().splitlines() or ["?"])[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--only", type=int, action="append", help="classes to run")
    args = parser.parse_args()
    rows = []
    for klass, name, snippet in PROBES:
        if args.only and klass not in args.only:
            continue
        outcome = run_probe(snippet, args.timeout)
        rows.append({"class": klass, "probe": name, **outcome})
        print(f"{klass:>2}  {name:<52} {outcome['kind']:<9} {outcome['detail'][:90]}", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
