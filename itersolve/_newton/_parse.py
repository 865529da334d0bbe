"""The allow-list parser of polynomial strings: a strict grammar, never ``eval``.

Accepted: numbers in ASCII digits (``2``, ``0.5``, ``1e-3``, ``2j``), the declared
variables, ``I``, ``+ - * /`` (division by a nonzero constant only), ``**`` or ``^`` with a
non-negative integer literal exponent, unary signs, parentheses and ``sqrt`` of a constant.
Anything else is a ValueError naming the equation and the token. The expression is built
from the tokens with sympy's constructors, so no string ever reaches ``sympify``, and the
size of its expansion is bounded from the tree before anything is expanded.
"""

from __future__ import annotations

import math
import re

# Bounds that keep construction cheap (sympy needs about a second to expand 5000 terms):
# exponent literals and degrees at most MAX_DEGREE, and at most MAX_TERMS monomials in the
# expansion, both bounded from the expression tree before anything is expanded.
MAX_DEGREE = 200
MAX_TERMS = 5000
MAX_LITERAL_CHARS = 400
MAX_NESTING = 100  # parentheses and unary signs: the parser recurses on each

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[jJ]?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/^()])"
    r")"
)


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            bad = text[position:].lstrip()[:1]
            raise ValueError(f"{where}: the character {bad!r} is not allowed in a polynomial")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise ValueError(f"{where} is empty")
    return tokens


class _Parser:
    """Recursive descent over the token list, building the sympy expression directly.

    ``expr := term (("+" | "-") term)*``; ``term := unary (("*" | "/") unary)*``;
    ``unary := ("+" | "-") unary | power``; ``power := atom [("**" | "^") exponent]``;
    ``atom := number | variable | "I" | "sqrt" "(" constant ")" | "(" expr ")"``;
    ``exponent`` is a non-negative integer literal, optionally in parentheses. As in
    Python, ``-x**2`` is ``-(x**2)``.
    """

    def __init__(self, tokens, symbols, where):
        self.tokens, self.symbols, self.where, self.i = tokens, symbols, where, 0
        self.depth = 0

    def fail(self, message):
        raise ValueError(f"{self.where}: {message}")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        if token[0] is None:
            self.fail("the expression ends too early")
        self.i += 1
        return token

    def parse(self):
        expr = self.expr()
        if self.i < len(self.tokens):
            self.fail(f"unexpected token {self.tokens[self.i][1]!r}")
        return expr

    def expr(self):
        value = self.term()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.unary()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            right = self.unary()
            if op == "*":
                value = value * right
            elif not right.is_Number:
                self.fail("division by a non-constant is not a polynomial")
            elif right.is_zero:
                self.fail("division by zero")
            else:
                value = value / right
        return value

    def nest(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"parentheses or signs nested deeper than {MAX_NESTING}")

    def unary(self):
        if self.peek()[1] in ("+", "-"):
            self.nest()
            value = -self.unary() if self.take()[1] == "-" else self.unary()
            self.depth -= 1
            return value
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[1] not in ("**", "^"):
            return base
        op = self.take()[1]
        parenthesised = self.peek()[1] == "("
        if parenthesised:
            self.take()
        kind, text = self.take()
        if kind != "number" or not (text.isascii() and text.isdigit()):
            self.fail(f"the exponent after {op!r} must be a non-negative integer, got {text!r}")
        if parenthesised and self.take()[1] != ")":
            self.fail("unbalanced parentheses in an exponent")
        exponent = int(text)
        if exponent > MAX_DEGREE:
            self.fail(f"the exponent {exponent} exceeds the limit {MAX_DEGREE}")
        if self.peek()[1] in ("**", "^"):
            self.fail(f"chained powers are not accepted ({op} after {op}); write one exponent")
        return base**exponent

    def atom(self):
        import sympy as sp

        kind, text = self.take()
        if kind == "number":
            if len(text) > MAX_LITERAL_CHARS:
                self.fail(f"a number literal longer than {MAX_LITERAL_CHARS} characters")
            imaginary = text[-1] in "jJ"
            digits = text[:-1] if imaginary else text
            value = sp.Integer(digits) if digits.isdigit() else sp.Float(digits)  # ASCII only
            return value * sp.I if imaginary else value
        if kind == "name":
            if text in self.symbols:
                return self.symbols[text]
            if text == "I":
                return sp.I
            if self.peek()[1] == "(":
                if text != "sqrt":
                    self.fail(
                        f"{text!r} is not a polynomial operation (of functions only sqrt "
                        "of a constant is accepted)"
                    )
                argument = self.atom()
                if argument.free_symbols:
                    self.fail("sqrt(...) of an expression in the variables is not a polynomial")
                return sp.sqrt(argument)
            self.fail(f"uses symbols [{text!r}] that are not in `variables` {list(self.symbols)}")
        if text == "(":
            self.nest()
            value = self.expr()
            if self.take()[1] != ")":
                self.fail("unbalanced parentheses")
            self.depth -= 1
            return value
        self.fail(f"unexpected token {text!r}")


def check_size(expr, variables, where) -> tuple[int, int]:
    """Upper bounds ``(degree, terms)`` of the expansion of ``expr``, from its tree.

    Raises ValueError where ``expr`` is not a polynomial in ``variables`` or its expansion
    could exceed :data:`MAX_DEGREE` or :data:`MAX_TERMS`.
    """
    import sympy as sp

    cap = MAX_TERMS + 1  # counts beyond the cap are all "too many": keep the ints small

    def walk(e):
        if not (e.free_symbols & variables):
            if e.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                raise ValueError(f"{where} has a non-finite coefficient: {e}")
            return 0, 1
        if e.is_Symbol:
            return 1, 1
        if e.is_Add or e.is_Mul:
            parts = [walk(a) for a in e.args]
            if e.is_Add:
                return max(d for d, _ in parts), min(cap, sum(t for _, t in parts))
            return sum(d for d, _ in parts), min(cap, math.prod(t for _, t in parts))
        if e.is_Pow and e.exp.is_Integer and e.exp >= 0:
            exponent = int(e.exp) if e.exp <= MAX_DEGREE else MAX_DEGREE + 1
            d, t = walk(e.base)
            # a multinomial (t terms)^k has at most C(t + k - 1, k) terms
            terms = 1 if t == 1 else min(cap, math.comb(min(t, cap) + exponent - 1, exponent))
            return d * exponent, terms
        raise ValueError(f"{where} is not a polynomial in the variables: {e}")

    degree, terms = walk(expr)
    if degree > MAX_DEGREE:
        raise ValueError(f"{where} has degree up to {degree}, above the limit {MAX_DEGREE}")
    if terms > MAX_TERMS:
        raise ValueError(f"{where} would expand to more than {MAX_TERMS} terms")
    return degree, terms


def parse(text: str, symbols: dict, where: str):
    """The sympy expression of the polynomial string ``text`` over ``symbols`` (name ->
    Symbol); ``where`` names the equation in error messages."""
    return _Parser(_tokens(text, where), symbols, where).parse()
