"""Conditions as data → predicates: which ops each field takes, and what their values must be.

Each condition compiles once, when the rule set changes, into a closure over precomputed
values (casefolded keywords, frozensets, compiled patterns). Evaluation never parses anything.

| field | ops |
|---|---|
| channel.type, channel.id | eq, ne, in |
| customer.tier | eq, ne, in |
| customer.language | eq, ne, in ("en" also matches "en-GB") |
| customer.tags, thread.tags | contains, contains_any |
| customer.attributes.<key> | eq, ne, in, contains, contains_any, matches, gt, lt |
| message.text | contains, contains_any, matches |
| thread.priority | eq, ne, in, gt, lt (low < normal < high < urgent) |
| time.business_hours | eq, ne (true/false; unknown hours match neither) |

Text compares case-insensitively (casefold) everywhere except channel ids. A missing value
(no tier, no such attribute) matches `ne` and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.customer_facts import ATTRIBUTE_KEY
from router.rules.context import RuleContext
from router.rules.patterns import PatternError, compile_pattern, search

OPS = ("eq", "ne", "in", "contains", "contains_any", "matches", "gt", "lt")
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
MAX_LIST = 200
MAX_TEXT_VALUE = 500
ATTRIBUTES_PREFIX = "customer.attributes."


@dataclass(slots=True)
class Prepared:
    """What several predicates would otherwise each compute from one context."""

    text: str
    customer_tags: frozenset[str]
    thread_tags: frozenset[str]


Predicate = Callable[[RuleContext, Prepared], bool]


class ConditionError(ValueError):
    """A condition a rule may not have; `where` is the part ("field", "op", "value")."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class FieldSpec:
    ops: tuple[str, ...]
    kind: str  # "id", "text", "language", "tags", "attribute", "message", "priority", "bool"


FIELDS: dict[str, FieldSpec] = {
    "channel.type": FieldSpec(("eq", "ne", "in"), "id"),
    "channel.id": FieldSpec(("eq", "ne", "in"), "id"),
    "customer.tier": FieldSpec(("eq", "ne", "in"), "text"),
    "customer.language": FieldSpec(("eq", "ne", "in"), "language"),
    "customer.tags": FieldSpec(("contains", "contains_any"), "tags"),
    "message.text": FieldSpec(("contains", "contains_any", "matches"), "message"),
    "thread.priority": FieldSpec(("eq", "ne", "in", "gt", "lt"), "priority"),
    "thread.tags": FieldSpec(("contains", "contains_any"), "tags"),
    "time.business_hours": FieldSpec(("eq", "ne"), "bool"),
}
ATTRIBUTE_SPEC = FieldSpec(OPS, "attribute")
Getter = Callable[[RuleContext, Prepared], Any]
GETTERS: dict[str, Getter] = {
    "channel.type": lambda c, p: c.channel_type,
    "channel.id": lambda c, p: c.channel_id,
    "customer.tier": lambda c, p: c.customer_tier,
    "customer.language": lambda c, p: c.customer_language,
    "customer.tags": lambda c, p: p.customer_tags,
    "message.text": lambda c, p: p.text,
    "thread.priority": lambda c, p: c.thread_priority,
    "thread.tags": lambda c, p: p.thread_tags,
    "time.business_hours": lambda c, p: c.business_hours,
}


def field_spec(field: Any) -> FieldSpec:
    if not isinstance(field, str):
        raise ConditionError("field", "the field must be a string")
    if field.startswith(ATTRIBUTES_PREFIX):
        key = field[len(ATTRIBUTES_PREFIX):]
        if not ATTRIBUTE_KEY.fullmatch(key):
            raise ConditionError("field", f"'{key}' is not a valid attribute key (letters, digits, "
                                 "'_', '-', '.'; at most 64)")
        return ATTRIBUTE_SPEC
    spec = FIELDS.get(field)
    if spec is None:
        known = ", ".join([*FIELDS, ATTRIBUTES_PREFIX + "<key>"])
        raise ConditionError("field", f"unknown field '{field}'; fields are: {known}")
    return spec


def _text(value: Any, what: str = "value") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConditionError("value", f"the {what} must be a non-empty string")
    if len(value) > MAX_TEXT_VALUE:
        raise ConditionError("value", f"the {what} is longer than {MAX_TEXT_VALUE} characters")
    return value.strip()


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ConditionError("value", "this op needs a non-empty list as its value")
    if len(value) > MAX_LIST:
        raise ConditionError("value", f"the list has {len(value)} entries; at most {MAX_LIST}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConditionError("value", "gt and lt need a number as their value")
    return float(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value).casefold()
    if isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    raise ConditionError("value", "the value must be a string, a number or a boolean")


def _language(value: Any) -> str:
    return _text(value, "language").casefold()


def _same_language(wanted: str, actual: str) -> bool:
    return actual == wanted or actual.startswith(wanted + "-")


def compile_condition(field: Any, op: Any, value: Any,
                      *, known_priorities: Mapping[str, int] = PRIORITY_RANK,
                      rule_id: int | None = None) -> Predicate:
    """The predicate for one condition, or ConditionError saying which part is wrong."""
    spec = field_spec(field)
    if op not in OPS:
        raise ConditionError("op", f"unknown op '{op}'; ops are: {', '.join(OPS)}")
    if op not in spec.ops:
        raise ConditionError("op", f"the field '{field}' takes {', '.join(spec.ops)}, not '{op}'")
    if spec.kind == "attribute":
        return _attribute(field[len(ATTRIBUTES_PREFIX):], op, value, rule_id)
    get = GETTERS[field]
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConditionError("value", f"'{field}' compares with true or false")
        want = value
        if op == "eq":
            return lambda c, p: (v := get(c, p)) is not None and v is want
        return lambda c, p: (v := get(c, p)) is not None and v is not want
    if spec.kind == "priority":
        return _priority(get, op, value, known_priorities)
    if spec.kind == "tags":
        return _tags(get, op, value)
    if spec.kind == "message":
        return _message(op, value, rule_id)
    return _equality(get, op, value, spec.kind)


def _equality(get: Getter, op: str, value: Any, kind: str) -> Predicate:
    # Channel ids and types compare exactly; tiers and languages case-insensitively.
    def norm(v: Any) -> str:
        text = _text(v)
        if kind == "language":
            return _language(v)
        return text if kind == "id" else text.casefold()

    def fold(actual: str | None) -> str | None:
        if actual is None or kind == "id":
            return actual
        return actual.casefold()

    if kind == "language":
        if op == "in":
            langs = tuple(norm(v) for v in _list(value))
            return lambda c, p: (a := fold(get(c, p))) is not None and any(
                _same_language(w, a) for w in langs)
        lang = norm(value)
        if op == "eq":
            return lambda c, p: (a := fold(get(c, p))) is not None and _same_language(lang, a)
        return lambda c, p: (a := fold(get(c, p))) is None or not _same_language(lang, a)
    if op == "in":
        options = frozenset(norm(v) for v in _list(value))
        return lambda c, p: fold(get(c, p)) in options
    wanted = norm(value)
    if op == "eq":
        return lambda c, p: fold(get(c, p)) == wanted
    return lambda c, p: fold(get(c, p)) != wanted


def _priority(get: Getter, op: str, value: Any, ranks: Mapping[str, int]) -> Predicate:
    def rank(v: Any) -> int:
        if not isinstance(v, str) or v not in ranks:
            raise ConditionError("value", f"a priority is one of {', '.join(ranks)}")
        return ranks[v]

    if op == "in":
        wanted = frozenset(rank(v) for v in _list(value))
        return lambda c, p: ranks.get(get(c, p), -1) in wanted
    target = rank(value)
    if op == "eq":
        return lambda c, p: ranks.get(get(c, p), -1) == target
    if op == "ne":
        return lambda c, p: ranks.get(get(c, p), -1) != target
    if op == "gt":
        return lambda c, p: ranks.get(get(c, p), -1) > target
    return lambda c, p: ranks.get(get(c, p), 99) < target


def _tags(get: Getter, op: str, value: Any) -> Predicate:
    if op == "contains":
        tag = _text(value, "tag").casefold()
        return lambda c, p: tag in get(c, p)
    wanted = frozenset(_text(v, "tag").casefold() for v in _list(value))
    return lambda c, p: not wanted.isdisjoint(get(c, p))


def _message(op: str, value: Any, rule_id: int | None) -> Predicate:
    if op == "contains":
        word = _text(value, "keyword").casefold()
        return lambda c, p: word in p.text
    if op == "contains_any":
        words = tuple(_text(v, "keyword").casefold() for v in _list(value))

        def any_word(c: RuleContext, p: Prepared) -> bool:
            # A plain loop: any() over a generator costs more than the substring tests.
            text = p.text
            for word in words:
                if word in text:
                    return True
            return False

        return any_word
    pattern = _pattern(value)
    # The original text: casefolding could change lengths and defeat the pattern's intent.
    return lambda c, p: search(pattern, c.message_text, rule_id)


def _pattern(value: Any) -> Any:
    try:
        return compile_pattern(value)
    except PatternError as exc:
        raise ConditionError("value", str(exc)) from None


def _as_number(actual: Any) -> float | None:
    if isinstance(actual, bool):
        return None
    if isinstance(actual, int | float):
        return float(actual)
    if isinstance(actual, str):
        try:
            number = float(actual.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _same_scalar(wanted: Any, actual: Any) -> bool:
    """Attribute equality: text casefolded, numbers by value, booleans only with booleans."""
    if isinstance(wanted, str):
        return isinstance(actual, str) and actual.strip().casefold() == wanted
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual
    number = _as_number(actual)
    return number is not None and number == wanted


def _attribute(key: str, op: str, value: Any, rule_id: int | None) -> Predicate:
    def get(c: RuleContext) -> Any:
        return c.customer_attributes.get(key)

    if op in ("eq", "ne"):
        wanted = _scalar(value)
        if op == "eq":
            return lambda c, p: _same_scalar(wanted, get(c))
        return lambda c, p: not _same_scalar(wanted, get(c))
    if op == "in":
        options = tuple(_scalar(v) for v in _list(value))
        return lambda c, p: any(_same_scalar(w, get(c)) for w in options)
    if op == "contains":
        needle = _text(value).casefold()
        return lambda c, p: isinstance(a := get(c), str) and needle in a.casefold()
    if op == "contains_any":
        needles = tuple(_text(v).casefold() for v in _list(value))
        return lambda c, p: isinstance(a := get(c), str) and any(
            n in a.casefold() for n in needles)
    if op == "matches":
        pattern = _pattern(value)
        return lambda c, p: isinstance(a := get(c), str) and search(pattern, a, rule_id)
    bound = _number(value)
    if op == "gt":
        return lambda c, p: (n := _as_number(get(c))) is not None and n > bound
    return lambda c, p: (n := _as_number(get(c))) is not None and n < bound
