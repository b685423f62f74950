"""One stored rule → a compiled rule (a predicate and its match), or RuleError naming the part.

The same compilation validates a rule when it is saved and builds it for the engine, so a
rule that was accepted is exactly a rule that runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router.rules.actions import ActionError, normalise_action
from router.rules.conditions import ConditionError, Predicate, Prepared, compile_condition
from router.rules.context import RuleAction, RuleContext

MAX_CONDITIONS = 50
MAX_ACTIONS = 10


class RuleError(ValueError):
    """What is wrong with a rule and where (`when.all.0.value`, `then.1.action`)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule_id: int | None
    test: Predicate
    actions: tuple[RuleAction, ...]
    # Which per-call values its conditions read (the engine computes only those).
    reads_text: bool
    reads_customer_tags: bool
    reads_thread_tags: bool
    reads_business_hours: bool = False


def _all(tests: Sequence[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda c, p: first(c, p) and second(c, p)

    def test(c: RuleContext, p: Prepared) -> bool:
        for each in tests:
            if not each(c, p):
                return False
        return True

    return test


def _any(tests: Sequence[Predicate]) -> Predicate:
    if len(tests) == 1:
        return tests[0]

    def test(c: RuleContext, p: Prepared) -> bool:
        for each in tests:
            if each(c, p):
                return True
        return False

    return test


def compile_when(when: Any, rule_id: int | None = None) -> tuple[Predicate, set[str]]:
    """The rule's predicate and the fields its conditions read."""
    if not isinstance(when, Mapping) or len(when) != 1 or next(iter(when)) not in ("all", "any"):
        raise RuleError("when", 'must be {"all": [conditions]} or {"any": [conditions]}')
    mode = next(iter(when))
    conditions = when[mode]
    if not isinstance(conditions, list):
        raise RuleError(f"when.{mode}", "must be a list of conditions")
    if mode == "any" and not conditions:
        raise RuleError("when.any", "needs at least one condition (use all: [] to match "
                        "everything)")
    if len(conditions) > MAX_CONDITIONS:
        raise RuleError(f"when.{mode}", f"at most {MAX_CONDITIONS} conditions")
    tests: list[Predicate] = []
    fields: set[str] = set()
    for index, condition in enumerate(conditions):
        where = f"when.{mode}.{index}"
        if not isinstance(condition, Mapping) or set(condition) - {"field", "op", "value"} \
                or not {"field", "op"} <= set(condition):
            raise RuleError(where, 'a condition is {"field", "op", "value"}')
        try:
            tests.append(compile_condition(condition["field"], condition["op"],
                                           condition.get("value"), rule_id=rule_id))
        except ConditionError as exc:
            raise RuleError(f"{where}.{exc.where}", str(exc)) from None
        fields.add(str(condition["field"]))
    if not tests:
        return (lambda c, p: True), fields
    return (_all(tests) if mode == "all" else _any(tests)), fields


def compile_then(then: Any) -> tuple[tuple[str, Any], ...]:
    """The actions as (action, normalised value) pairs."""
    if not isinstance(then, list) or not then:
        raise RuleError("then", "needs at least one action")
    if len(then) > MAX_ACTIONS:
        raise RuleError("then", f"at most {MAX_ACTIONS} actions")
    seen: set[str] = set()
    out: list[tuple[str, Any]] = []
    for index, action in enumerate(then):
        where = f"then.{index}"
        if not isinstance(action, Mapping) or set(action) != {"action", "value"}:
            raise RuleError(where, 'an action is {"action", "value"}')
        try:
            value = normalise_action(action["action"], action["value"])
        except ActionError as exc:
            raise RuleError(f"{where}.{exc.where}", str(exc)) from None
        if action["action"] in seen:
            raise RuleError(f"{where}.action", f"'{action['action']}' appears twice")
        seen.add(action["action"])
        out.append((action["action"], value))
    return tuple(out)


def compile_rule(rule_id: int | None, when: Any, then: Any) -> CompiledRule:
    test, fields = compile_when(when, rule_id)
    actions = tuple(RuleAction(name, value) for name, value in compile_then(then))
    return CompiledRule(rule_id=rule_id, test=test, actions=actions,
                        reads_text="message.text" in fields,
                        reads_customer_tags="customer.tags" in fields,
                        reads_thread_tags="thread.tags" in fields,
                        reads_business_hours="time.business_hours" in fields)
