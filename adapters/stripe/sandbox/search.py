"""Stripe's search query language, the subset the gateway uses.

``field:'value'`` exact match (case-insensitive, as Stripe documents), ``field~'value'`` substring (at least 3
characters), ``field>n`` / ``<`` / ``>=`` / ``<=`` for numbers, ``metadata['key']:'value'``, a leading ``-``
negates, clauses joined by ``AND`` or by ``OR`` (never both in one query, which Stripe refuses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError

_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?
        (?P<field>metadata\[(?P<q>['"])(?P<mkey>[^'"]+)(?P=q)\]|[a-z_][a-z0-9_.]*)
        \s*(?P<op>>=|<=|:|~|>|<)\s*
        (?:'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<bare>-?\d+(?:\.\d+)?|null))
        \s*""",
    re.VERBOSE,
)
_JOIN = re.compile(r"\s+(AND|OR|and|or)\s+")


@dataclass(frozen=True)
class Clause:
    negate: bool
    field: str
    meta_key: str | None
    op: str
    value: str | None  # None: null
    numeric: bool


def parse_query(query: str) -> tuple[str, list[Clause]]:
    if not query.strip():
        raise ValidationError("Missing required param: query.", param="query", code="parameter_missing")
    clauses: list[Clause] = []
    joins: set[str] = set()
    pos = 0
    while True:
        m = _CLAUSE.match(query, pos)
        if not m:
            raise ValidationError(
                f"Invalid query: could not parse the query near character {pos}", param="query"
            )
        raw = m.group("sq") if m.group("sq") is not None else m.group("dq")
        bare = m.group("bare")
        value: str | None
        if raw is not None:
            value = re.sub(r"\\(.)", r"\1", raw)
        elif bare == "null":
            value = None
        else:
            value = bare
        field = "metadata" if m.group("mkey") else m.group("field")
        clauses.append(
            Clause(
                bool(m.group("neg")),
                field,
                m.group("mkey"),
                m.group("op"),
                value,
                raw is None and bare != "null",
            )
        )
        if clauses[-1].op == "~" and (value is None or len(value) < 3):
            raise ValidationError(
                "Invalid query: substring matches need at least 3 characters", param="query"
            )
        pos = m.end()
        if pos >= len(query):
            break
        j = _JOIN.match(query, pos - 1 if query[pos - 1].isspace() else pos)
        if not j:
            raise ValidationError(f"Invalid query: expected AND or OR at character {pos}", param="query")
        joins.add(j.group(1).upper())
        pos = j.end()
    if len(joins) > 1:
        raise ValidationError("Invalid query: AND and OR cannot be mixed in one query", param="query")
    return (joins.pop() if joins else "AND"), clauses


def _get(obj: Mapping[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def make_matcher(query: str, fields: Mapping[str, str]) -> Callable[[Mapping[str, Any]], bool]:
    """``fields`` maps a query field name to a dotted path in the object (``metadata`` handled apart)."""
    join, clauses = parse_query(query)
    for c in clauses:
        if c.field != "metadata" and c.field not in fields:
            raise ValidationError(
                f"Invalid query: field '{c.field}' is not supported for this search. "
                f"Supported fields: {', '.join(sorted([*fields, 'metadata']))}",
                param="query",
            )

    def test(obj: Mapping[str, Any], c: Clause) -> bool:
        actual: Any
        if c.field == "metadata":
            actual = (obj.get("metadata") or {}).get(c.meta_key or "")
        else:
            actual = _get(obj, fields[c.field])
        if c.value is None:
            result = actual is None
        elif c.op in (">", "<", ">=", "<="):
            try:
                a, v = float(actual), float(c.value)
            except (TypeError, ValueError):
                return False
            result = {">": a > v, "<": a < v, ">=": a >= v, "<=": a <= v}[c.op]
        elif actual is None:
            result = False
        else:
            text = str(actual).lower()
            result = c.value.lower() in text if c.op == "~" else text == c.value.lower()
        return result != c.negate

    def match(obj: Mapping[str, Any]) -> bool:
        results = (test(obj, c) for c in clauses)
        return all(results) if join == "AND" else any(results)

    return match
