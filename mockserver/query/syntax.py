"""Codat's query language: the expression tree, and the text it is parsed from and written to.

Grammar (what Codat documents, made precise)::

    expr        := and_expr ( "||" and_expr )*
    and_expr    := primary ( "&&" primary )*
    primary     := "{" expr "}" | comparison
    comparison  := path operator value
    path        := segment ( "." segment )*
    operator    := "=" | "!=" | "~" | ">" | "<" | ">=" | "<="
    value       := bare-word | "double-quoted"

* ``&&`` binds tighter than ``||``; both associate to the left. Curly braces group, as in
  Codat's own example ``{totalAmount > 100 || totalAmount < 50} && status != paid``.
* Whitespace around operators and braces is ignored. A bare value runs up to the next
  operator character (``= ! ~ < > & | { } "``) and is trimmed, so ``name=Codat Ltd`` works;
  a value that needs one of those characters (or edge whitespace) goes in double quotes, where
  ``\\"`` and ``\\\\`` escape a quote and a backslash. Empty values (bare or ``""``) are malformed.
* Codat says a query must stay under 2048 characters; longer ones are rejected here too.
  Braces may nest at most :data:`MAX_NESTING` deep, which keeps the parser's recursion bounded.
* Any syntax problem raises :class:`~mockserver.errors.MalformedQuery` with Codat's message
  ``Error parsing query - Malformed query.``; a property the resource does not have raises it
  with ``Error parsing query - Could not resolve property <path> on <Resource>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from mockserver.errors import MalformedQuery

MAX_QUERY_LENGTH = 2048
"""Codat's documented bound: a query must be shorter than this many characters."""

MAX_NESTING = 32
"""How deep ``{ }`` groups may nest; deeper input is treated as malformed."""

OPERATORS: tuple[str, ...] = ("=", "!=", "~", ">", "<", ">=", "<=")

# Characters that end a bare word; anything else (dots, dashes, colons, spaces) may appear in one.
_SPECIAL = frozenset('=!~<>&|{}"')


# --- the tree ---------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Comparison:
    """``path op value``: one test against one property (``path`` holds the dotted segments)."""

    path: tuple[str, ...]
    op: str
    value: str


@dataclass(slots=True, frozen=True)
class And:
    """Both sides must hold."""

    left: Expr
    right: Expr


@dataclass(slots=True, frozen=True)
class Or:
    """Either side may hold."""

    left: Expr
    right: Expr


Expr: TypeAlias = Comparison | And | Or


# --- tokens -----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Token:
    kind: str  # "word", "string", "end", or the symbol itself ("&&", "{", ">=", ...)
    text: str = ""


_SYMBOL_RE = re.compile(r"&&|\|\||!=|>=|<=|[=~<>{}]")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE_RE = re.compile(r'\\(["\\])')


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif symbol := _SYMBOL_RE.match(text, i):
            tokens.append(_Token(symbol.group()))
            i = symbol.end()
        elif quoted := _QUOTED_RE.match(text, i):
            # Only \" and \\ are escapes; any other backslash is kept as written.
            tokens.append(_Token("string", _ESCAPE_RE.sub(r"\1", quoted.group(1))))
            i = quoted.end()
        elif text[i] in _SPECIAL:
            raise MalformedQuery()  # a lone &, | or !, or a quote that is never closed
        else:
            start = i
            while i < n and text[i] not in _SPECIAL:
                i += 1
            # Leading whitespace was skipped above, so only the tail needs trimming.
            tokens.append(_Token("word", text[start:i].rstrip()))
    tokens.append(_Token("end"))
    return tokens


# --- parser -----------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; recursion happens only at ``{`` groups."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> _Token:
        return self._tokens[self._pos]

    def _take(self) -> _Token:
        token = self._tokens[self._pos]
        if token.kind != "end":
            self._pos += 1
        return token

    def parse(self) -> Expr:
        expr = self._or(0)
        if self._peek().kind != "end":
            raise MalformedQuery()
        return expr

    def _or(self, depth: int) -> Expr:
        expr = self._and(depth)
        while self._peek().kind == "||":
            self._take()
            expr = Or(expr, self._and(depth))
        return expr

    def _and(self, depth: int) -> Expr:
        expr = self._primary(depth)
        while self._peek().kind == "&&":
            self._take()
            expr = And(expr, self._primary(depth))
        return expr

    def _primary(self, depth: int) -> Expr:
        token = self._take()
        if token.kind == "{":
            if depth >= MAX_NESTING:
                raise MalformedQuery()
            inner = self._or(depth + 1)
            if self._take().kind != "}":
                raise MalformedQuery()
            return inner
        if token.kind != "word":
            raise MalformedQuery()
        path = parse_path(token.text)
        op = self._take().kind
        if op not in OPERATORS:
            raise MalformedQuery()
        value = self._take()
        if value.kind not in ("word", "string") or value.text == "":
            raise MalformedQuery()
        return Comparison(path, op, value.text)


def parse_path(text: str) -> tuple[str, ...]:
    """The dotted segments of a property path; MalformedQuery for an empty or spaced segment."""
    segments = tuple(text.split("."))
    if any(not seg or any(ch.isspace() for ch in seg) for seg in segments):
        raise MalformedQuery()
    return segments


def parse(text: str) -> Expr:
    """Parse a Codat ``query`` string into an expression tree.

    Raises :class:`MalformedQuery` for anything that is not a well-formed query, including
    the empty string (callers treat an absent query as "no filter" before getting here).
    """
    if len(text) >= MAX_QUERY_LENGTH:
        raise MalformedQuery()
    return _Parser(_tokenize(text)).parse()


# --- rendering --------------------------------------------------------------------------------


def spine(expr: Expr, kind: type[And] | type[Or]) -> list[Expr]:
    """The operands of a left-leaning chain of one connective, in source order."""
    operands: list[Expr] = []
    node = expr
    while isinstance(node, kind):
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


def render_value(value: str) -> str:
    """``value`` as query text: bare when that reads back unchanged, else double-quoted."""
    if value and value == value.strip() and not any(ch in _SPECIAL for ch in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(expr: Expr) -> str:
    """Write ``expr`` as query text that :func:`parse` reads back as the same tree.

    Braces appear only where precedence or left-association would otherwise regroup the tree.
    """
    if isinstance(expr, Comparison):
        return f"{'.'.join(expr.path)}{expr.op}{render_value(expr.value)}"
    if isinstance(expr, And):
        # Inside an AND chain any compound operand needs braces: an OR would split the chain,
        # and a nested AND on the right would re-associate to the left.
        parts = [
            render(op) if isinstance(op, Comparison) else f"{{{render(op)}}}"
            for op in spine(expr, And)
        ]
        return " && ".join(parts)
    parts = [f"{{{render(op)}}}" if isinstance(op, Or) else render(op) for op in spine(expr, Or)]
    return " || ".join(parts)


def comparisons(expr: Expr) -> Iterator[Comparison]:
    """Every comparison in ``expr``, left to right (iteratively, so long chains are fine)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            yield node
        else:
            stack.append(node.right)
            stack.append(node.left)
