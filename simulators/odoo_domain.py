"""Odoo domains: parse, validate and evaluate against the in-memory store.

A domain is a list in Polish notation: terms ``[field_path, operator, value]`` and the
prefix operators ``"&"``, ``"|"`` and ``"!"``; terms left over are AND-ed. ``field_path``
may traverse relations (``partner_id.country_id.code``). Operators: ``=``, ``!=``, ``<>``,
``in``, ``not in``, ``like``, ``not like``, ``ilike``, ``not ilike``, ``=like``, ``=ilike``,
``<``, ``<=``, ``>``, ``>=``. Negative operators are the negation of their positive
counterpart (so, as in Odoo, ``!=`` and ``not ilike`` match empty values). Relational fields
compare by id (int values) or display name (str values). Any malformed domain or unknown field
raises :class:`~simulators.odoo_errors.OdooValueError` before any record is looked at.
"""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulators.odoo_errors import OdooValueError
from simulators.odoo_models import RELATIONAL, X2MANY, FieldSpec

if TYPE_CHECKING:
    from simulators.odoo_store import OdooStore

Predicate = Callable[[int], bool]

NEGATIONS = {"!=": "=", "<>": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}
POSITIVE = frozenset({"=", "in", "like", "ilike", "=like", "=ilike", "<", "<=", ">", ">="})


def compile_domain(store: "OdooStore", model: str, domain: Any) -> Predicate:
    """Validate ``domain`` for ``model`` and return a predicate over record ids."""
    if domain is None or domain is False:
        return lambda _id: True
    if not isinstance(domain, list | tuple):
        raise OdooValueError(f"Invalid domain: {domain!r}")
    stack: list[Predicate] = []
    for item in reversed(domain):
        if item == "&" or item == "|":
            if len(stack) < 2:
                raise OdooValueError(f"Invalid domain: operator {item!r} lacks operands")
            left, right = stack.pop(), stack.pop()
            stack.append(_and(left, right) if item == "&" else _or(left, right))
        elif item == "!":
            if not stack:
                raise OdooValueError("Invalid domain: operator '!' lacks an operand")
            stack.append(_not(stack.pop()))
        else:
            stack.append(_compile_term(store, model, item))
    return lambda i: all(p(i) for p in stack)


def _and(a: Predicate, b: Predicate) -> Predicate:
    return lambda i: a(i) and b(i)


def _or(a: Predicate, b: Predicate) -> Predicate:
    return lambda i: a(i) or b(i)


def _not(a: Predicate) -> Predicate:
    return lambda i: not a(i)


def _constant(value: bool) -> Predicate:
    return lambda _i: value


def _compile_term(store: "OdooStore", model: str, term: Any) -> Predicate:
    if not isinstance(term, list | tuple) or len(term) != 3:
        raise OdooValueError(f"Invalid leaf {term!r}")
    path, operator, value = term
    if path in (0, 1) and operator == "=" and value == 1:
        return _constant(bool(path))
    if not isinstance(path, str) or not isinstance(operator, str):
        raise OdooValueError(f"Invalid leaf {term!r}")
    operator = operator.lower()
    negate = operator in NEGATIONS
    positive = NEGATIONS.get(operator, operator)
    if positive not in POSITIVE:
        raise OdooValueError(f"Invalid leaf {term!r}: unknown operator {operator!r}")
    if positive == "in" and not isinstance(value, list | tuple):
        raise OdooValueError(f"Invalid leaf {term!r}: {operator!r} needs a list")
    parts = path.split(".")
    final = _resolve_spec(store, model, parts, term)

    def predicate(rec_id: int) -> bool:
        candidates = _values(store, model, rec_id, parts)
        result = _matches(store, final, candidates, positive, value)
        return not result if negate else result

    return predicate


def _resolve_spec(store: "OdooStore", model: str, parts: list[str], term: Any) -> FieldSpec:
    current = model
    spec: FieldSpec | None = None
    for index, name in enumerate(parts):
        spec = store.models[current].fields.get(name)
        if spec is None:
            raise OdooValueError(f"Invalid field {current}.{name} in leaf {tuple(term)!r}")
        if index < len(parts) - 1:
            if spec.type not in RELATIONAL or spec.comodel is None:
                dotted = ".".join(parts)
                raise OdooValueError(f"Invalid field path {dotted!r}: {name} is not a relation")
            current = spec.comodel
    assert spec is not None
    return spec


def _values(store: "OdooStore", model: str, rec_id: int, parts: list[str]) -> list[Any]:
    """The raw values reached by ``parts``: ids for relational leaves, else scalars."""
    spec = store.models[model].fields[parts[0]]
    raw = store.raw(model, rec_id, parts[0])
    if spec.type == "many2one":
        ids = [raw] if raw else []
    elif spec.type in X2MANY:
        ids = list(raw)
    else:
        return [raw]
    if len(parts) == 1:
        return ids
    assert spec.comodel is not None
    out: list[Any] = []
    for child in ids:
        out.extend(_values(store, spec.comodel, child, parts[1:]))
    return out


def _is_empty(value: Any) -> bool:
    return value is False or value is None


def _like(pattern: str, anchored: bool, flags: int) -> re.Pattern[str]:
    if not anchored:
        return re.compile(re.escape(pattern), flags)
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{regex}$", flags | re.DOTALL)


def _matches(
    store: "OdooStore", spec: FieldSpec, candidates: list[Any], operator: str, value: Any
) -> bool:
    relational = spec.type in RELATIONAL
    present = [c for c in candidates if not _is_empty(c)]

    def text(candidate: Any) -> str:
        if relational:
            assert spec.comodel is not None
            return store.display_name(spec.comodel, candidate)
        return str(candidate)

    def equal(candidate: Any, expected: Any) -> bool:
        if relational and isinstance(expected, str):
            return text(candidate) == expected
        return bool(candidate == expected)

    if operator == "=":
        if _is_empty(value):
            return not present
        return any(equal(c, value) for c in present)
    if operator == "in":
        wants_empty = any(_is_empty(v) for v in value)
        return (wants_empty and not present) or any(equal(c, v) for c in present for v in value)
    if operator in ("like", "ilike", "=like", "=ilike"):
        if _is_empty(value):
            return not present
        flags = re.IGNORECASE if "ilike" in operator else 0
        pattern = _like(str(value), operator.startswith("="), flags)
        return any(pattern.search(text(c)) for c in present)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    try:
        return any(compare[operator](c, value) for c in present)
    except TypeError:
        raise OdooValueError(f"Cannot compare {spec.string} with {value!r}") from None
