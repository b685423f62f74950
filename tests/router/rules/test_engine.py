# ruff: noqa: RUF001  (customers write in Russian; the rules must match it)
"""The engine alone: every field and op matching and not, ordering, first match, disabled rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from router.rules.compile import RuleError, compile_rule
from router.rules.engine import NO_MATCH, CompiledRules, RuleAction, RuleContext

BASE = RuleContext(
    channel_type="telegram", channel_id="ch_tg", customer_tier="Paid",
    customer_language="en-GB", customer_tags=("VIP", "b2b"),
    customer_attributes={"plan": "Gold", "seats": 12, "mrr": "99.5", "beta": True,
                         "note": "Renewal due in March"},
    message_text="Hello, I want a REFUND for order 123456. Возврат денег!",
    thread_priority="high", thread_tags=("Billing",), business_hours=True,
)

# (field, op, value, context changes that make it NOT match)
CASES: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("channel.type", "eq", "telegram", {"channel_type": "email"}),
    ("channel.type", "ne", "email", {"channel_type": "email"}),
    ("channel.type", "in", ["telegram", "whatsapp"], {"channel_type": "email"}),
    ("channel.id", "eq", "ch_tg", {"channel_id": "ch_other"}),
    ("channel.id", "ne", "ch_other", {"channel_id": "ch_other"}),
    ("channel.id", "in", ["ch_tg"], {"channel_id": "CH_TG"}),  # ids compare exactly
    ("customer.tier", "eq", "paid", {"customer_tier": "free"}),
    ("customer.tier", "eq", "PAID", {"customer_tier": None}),
    ("customer.tier", "ne", "free", {"customer_tier": "Free"}),
    ("customer.tier", "in", ["gold", "paid"], {"customer_tier": None}),
    ("customer.language", "eq", "en", {"customer_language": "ru"}),
    ("customer.language", "eq", "en-gb", {"customer_language": "en-US"}),
    ("customer.language", "ne", "ru", {"customer_language": "ru-RU"}),
    ("customer.language", "in", ["ru", "en"], {"customer_language": None}),
    ("customer.tags", "contains", "vip", {"customer_tags": ("b2b",)}),
    ("customer.tags", "contains_any", ["gold", "VIP"], {"customer_tags": ()}),
    ("customer.attributes.plan", "eq", "gold", {"customer_attributes": {"plan": "silver"}}),
    ("customer.attributes.seats", "eq", 12, {"customer_attributes": {"seats": 13}}),
    ("customer.attributes.beta", "eq", True, {"customer_attributes": {"beta": 1}}),
    ("customer.attributes.plan", "ne", "silver", {"customer_attributes": {"plan": "Silver"}}),
    ("customer.attributes.plan", "in", ["gold", "platinum"], {"customer_attributes": {}}),
    ("customer.attributes.note", "contains", "renewal", {"customer_attributes": {"note": 5}}),
    ("customer.attributes.note", "contains_any", ["march", "april"],
     {"customer_attributes": {"note": "June"}}),
    ("customer.attributes.note", "matches", r"\bdue\b", {"customer_attributes": {"note": "dues"}}),
    ("customer.attributes.seats", "gt", 10, {"customer_attributes": {"seats": 10}}),
    ("customer.attributes.mrr", "gt", 50, {"customer_attributes": {"mrr": "cheap"}}),
    ("customer.attributes.seats", "lt", 20, {"customer_attributes": {"seats": True}}),
    ("message.text", "contains", "refund", {"message_text": "thanks"}),
    ("message.text", "contains", "возврат", {"message_text": "спасибо"}),
    ("message.text", "contains_any", ["chargeback", "ВОЗВРАТ"], {"message_text": "hi"}),
    ("message.text", "matches", r"\border \d{6}\b", {"message_text": "order 12345"}),
    ("message.text", "matches", r"\bвозврат\w*", {"message_text": "невозвратный"}),
    ("thread.priority", "eq", "high", {"thread_priority": "normal"}),
    ("thread.priority", "ne", "low", {"thread_priority": "low"}),
    ("thread.priority", "in", ["high", "urgent"], {"thread_priority": "low"}),
    ("thread.priority", "gt", "normal", {"thread_priority": "normal"}),
    ("thread.priority", "lt", "urgent", {"thread_priority": "urgent"}),
    ("thread.tags", "contains", "billing", {"thread_tags": ()}),
    ("thread.tags", "contains_any", ["delivery", "billing"], {"thread_tags": ("delivery2",)}),
    ("time.business_hours", "eq", True, {"business_hours": False}),
    ("time.business_hours", "eq", True, {"business_hours": None}),
    ("time.business_hours", "ne", False, {"business_hours": None}),
    ("time.business_hours", "eq", False, {"business_hours": True}),
]


def _rules(*rules: tuple[int, dict[str, Any]]) -> CompiledRules:
    then = [{"action": "add_tags", "value": ["x"]}]
    return CompiledRules.from_rows([(rule_id, when, then) for rule_id, when in rules])


@pytest.mark.parametrize(("field", "op", "value", "miss"), CASES,
                         ids=[f"{f}-{o}-{i}" for i, (f, o, _, _) in enumerate(CASES)])
def test_each_field_and_op_matches_and_misses(field: str, op: str, value: Any,
                                              miss: dict[str, Any]) -> None:
    rules = _rules((7, {"all": [{"field": field, "op": op, "value": value}]}))
    hit_ctx = BASE
    if (field, op, value) == ("time.business_hours", "eq", False):
        hit_ctx = replace(BASE, business_hours=False)
    assert rules.evaluate(hit_ctx).rule_id == 7
    assert rules.evaluate(replace(BASE, **miss)) is NO_MATCH


def test_every_field_and_op_the_tables_allow_is_covered() -> None:
    from router.rules.conditions import FIELDS, OPS

    covered = {(f if not f.startswith("customer.attributes.") else "attr", o)
               for f, o, _, _ in CASES}
    wanted = {(f, o) for f, spec in FIELDS.items() for o in spec.ops} | {("attr", o) for o in OPS}
    assert wanted - covered == set()


def test_first_match_wins_in_position_order_and_any_or_all() -> None:
    rules = CompiledRules.from_rows([
        (3, {"any": [{"field": "channel.type", "op": "eq", "value": "email"},
                     {"field": "message.text", "op": "contains", "value": "refund"}]},
         [{"action": "set_priority", "value": "high"}]),
        (1, {"all": []}, [{"action": "add_tags", "value": ["catch-all"]}]),
    ])
    match = rules.evaluate(BASE)
    assert match.rule_id == 3
    assert match.actions == (RuleAction("set_priority", "high"),)
    assert rules.evaluate(replace(BASE, message_text="hi")).rule_id == 1
    assert rules.rule_ids == (3, 1)


def test_all_needs_every_condition() -> None:
    rules = _rules((1, {"all": [{"field": "customer.tier", "op": "eq", "value": "paid"},
                                {"field": "message.text", "op": "contains", "value": "nope"}]}))
    assert rules.evaluate(BASE) is NO_MATCH


def test_business_hours_are_worked_out_only_for_rules_that_read_them() -> None:
    text_only = _rules((1, {"all": [{"field": "message.text", "op": "contains",
                                     "value": "refund"}]}))
    assert not text_only.reads_business_hours
    assert _rules((1, {"any": [{"field": "time.business_hours", "op": "eq", "value": False}]}),
                  (2, {"all": []})).reads_business_hours


def test_no_rules_no_match() -> None:
    assert CompiledRules().evaluate(BASE) is NO_MATCH


def test_a_stored_rule_that_no_longer_compiles_is_skipped_not_fatal() -> None:
    rules = CompiledRules.from_rows([
        (1, {"all": [{"field": "customer.shoe_size", "op": "eq", "value": 9}]},
         [{"action": "set_priority", "value": "high"}]),
        (2, {"all": []}, [{"action": "set_priority", "value": "low"}]),
    ])
    assert rules.evaluate(BASE).rule_id == 2


def test_a_context_of_unexpected_types_never_raises() -> None:
    rules = _rules((1, {"all": [{"field": "customer.tags", "op": "contains", "value": "a"}]}),
                   (2, {"all": []}))
    odd = replace(BASE, customer_tags=(None,))  # type: ignore[arg-type]
    assert rules.evaluate(odd).rule_id == 2
    attributes = _rules((1, {"all": [{"field": "customer.attributes.a", "op": "eq", "value": 1}]}),
                        (2, {"all": []}))
    broken = replace(BASE, customer_attributes=None)  # type: ignore[arg-type]
    assert attributes.evaluate(broken).rule_id == 2


def test_add_tags_are_trimmed_deduplicated_and_immutable() -> None:
    rule = compile_rule(1, {"all": []}, [{"action": "add_tags", "value": [" b ", "a", "b"]}])
    assert rule.actions == (RuleAction("add_tags", ("a", "b")),)


INVALID: list[tuple[dict[str, Any], list[dict[str, Any]], str, str]] = [
    ({"all": [{"field": "customer.shoe", "op": "eq", "value": 1}]}, [], "when.all.0.field",
     "unknown field 'customer.shoe'"),
    ({"all": [{"field": "message.text", "op": "like", "value": "x"}]}, [], "when.all.0.op",
     "unknown op 'like'"),
    ({"all": [{"field": "message.text", "op": "eq", "value": "x"}]}, [], "when.all.0.op",
     "takes contains, contains_any, matches"),
    ({"all": [{"field": "message.text", "op": "matches", "value": "(unclosed"}]}, [],
     "when.all.0.value", "does not compile"),
    ({"all": [{"field": "message.text", "op": "matches", "value": "(a+)+$"}]}, [],
     "when.all.0.value", "repeated group contains another repeat"),
    ({"all": [{"field": "message.text", "op": "matches", "value": r"(\w*\s?)*x"}]}, [],
     "when.all.0.value", "repeated group contains another repeat"),
    ({"all": [{"field": "message.text", "op": "matches", "value": r"(a)\1"}]}, [],
     "when.all.0.value", "backreferences"),
    ({"all": [{"field": "message.text", "op": "matches", "value": "a" * 501}]}, [],
     "when.all.0.value", "at most 500"),
    ({"all": [{"field": "thread.priority", "op": "eq", "value": "asap"}]}, [],
     "when.all.0.value", "a priority is one of"),
    ({"all": [{"field": "customer.attributes.seats", "op": "gt", "value": "ten"}]}, [],
     "when.all.0.value", "need a number"),
    ({"all": [{"field": "customer.tier", "op": "in", "value": "paid"}]}, [],
     "when.all.0.value", "non-empty list"),
    ({"all": [{"field": "time.business_hours", "op": "eq", "value": "yes"}]}, [],
     "when.all.0.value", "true or false"),
    ({"all": [{"field": "customer.attributes.a b", "op": "eq", "value": 1}]}, [],
     "when.all.0.field", "not a valid attribute key"),
    ({"any": []}, [], "when.any", "at least one condition"),
    ({"all": []}, [{"action": "close_case", "value": 1}], "then.0.action",
     "unknown action 'close_case'"),
    ({"all": []}, [{"action": "set_team", "value": "line 2"}], "then.0.value", "id of a team"),
    ({"all": []}, [{"action": "set_priority", "value": "asap"}], "then.0.value",
     "set_priority takes one of"),
    ({"all": []}, [{"action": "add_tags", "value": ["x" * 65]}], "then.0.value",
     "1-64 characters"),
    ({"all": []}, [{"action": "set_priority", "value": "low"},
                   {"action": "set_priority", "value": "high"}], "then.1.action", "appears twice"),
]


@pytest.mark.parametrize(("when", "then", "where", "says"), INVALID,
                         ids=[f"{w}-{i}" for i, (_, _, w, _) in enumerate(INVALID)])
def test_invalid_rules_name_the_part_that_is_wrong(when: dict[str, Any], then: list[Any],
                                                   where: str, says: str) -> None:
    then = then or [{"action": "set_priority", "value": "high"}]
    with pytest.raises(RuleError) as caught:
        compile_rule(None, when, then)
    assert caught.value.where == where
    assert says in caught.value.message


def test_a_pattern_past_its_time_budget_is_no_match_and_the_next_rule_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No nested repeat, so it passes the save-time guard, yet it is polynomial: on 3,000
    # characters it would run for minutes without the per-search timeout.
    slow = {"all": [{"field": "message.text", "op": "matches", "value": ".*a.*a.*a.*a.*z"}]}
    rules = _rules((1, slow), (2, {"all": []}))
    with caplog.at_level("WARNING", logger="omniroute.rules"):
        assert rules.evaluate(replace(BASE, message_text="a" * 3000)).rule_id == 2
    assert "rule 1: pattern search timed out" in caplog.text
    assert "aaaa" not in caplog.text  # message text never goes into a log line


ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, float("nan"), "", " ", "x", [], [None],
                         [[1]], [{"a": 1}], {"a": 1}, ["a", 1], "x" * 600, 2**70]


def test_any_value_in_any_slot_is_a_rule_error_or_a_rule_never_a_crash() -> None:
    from router.rules.actions import ACTIONS
    from router.rules.conditions import FIELDS, OPS

    fields = [*FIELDS, "customer.attributes.plan", 5, None, ["x"]]
    for field in fields:
        for op in [*OPS, "nope", None, ["eq"]]:
            for value in ODD_VALUES:
                try:
                    rule = compile_rule(1, {"all": [{"field": field, "op": op, "value": value}]},
                                        [{"action": "set_priority", "value": "low"}])
                except RuleError:
                    continue
                CompiledRules([rule]).evaluate(BASE)
    for action in [*ACTIONS, "nope", None, [1]]:
        for value in ODD_VALUES:
            try:
                compile_rule(1, {"all": []}, [{"action": action, "value": value}])
            except RuleError:
                pass
