# ruff: noqa: RUF001  (the messages are Russian, as our customers write them)
"""Micro-benchmark of CompiledRules.evaluate(): ns per call for 5 and 50 rules.

    .venv/bin/python -m bench.rules_eval

Rules mix what support leads write: channel and tier checks, keyword lists, a regex, an
attribute threshold, tags. Three messages: one the first rule takes, one only the last rule
takes (every rule runs), and one nobody takes (every rule runs, then NO_MATCH).
"""

from __future__ import annotations

import timeit
from dataclasses import replace
from typing import Any

from router.rules.engine import CompiledRules, RuleContext

CONTEXT = RuleContext(
    channel_type="telegram", channel_id="ch_tg", customer_tier="free",
    customer_language="ru-RU", customer_tags=("newsletter",),
    customer_attributes={"plan": "basic", "seats": 2},
    message_text="Здравствуйте! Заказ 12345 до сих пор не пришёл, когда будет доставка?",
    thread_priority="normal", thread_tags=(), business_hours=True,
)


def _rule(i: int) -> dict[str, Any]:
    kinds: list[dict[str, Any]] = [
        {"all": [{"field": "customer.tier", "op": "eq", "value": f"tier{i}"},
                 {"field": "message.text", "op": "contains_any",
                  "value": [f"жалоба{i}", f"complaint{i}", f"претензия{i}"]}]},
        {"all": [{"field": "channel.type", "op": "in", "value": ["email", "whatsapp"]},
                 {"field": "customer.language", "op": "eq", "value": "en"}]},
        {"any": [{"field": "message.text", "op": "matches", "value": rf"\bвозврат{i}\w*"},
                 {"field": "thread.tags", "op": "contains", "value": f"refund{i}"}]},
        {"all": [{"field": "customer.attributes.seats", "op": "gt", "value": 100 + i},
                 {"field": "thread.priority", "op": "lt", "value": "high"}]},
        {"all": [{"field": "customer.tags", "op": "contains_any", "value": [f"vip{i}", "b2b"]},
                 {"field": "time.business_hours", "op": "eq", "value": False}]},
    ]
    return kinds[(i - 1) % len(kinds)]


def rules_of(count: int) -> CompiledRules:
    rows: list[tuple[int | None, Any, Any]] = [
        (i, _rule(i), [{"action": "add_tags", "value": [f"t{i}"]}]) for i in range(1, count)]
    # The last rule: delivery questions (what CONTEXT is).
    rows.append((count, {"all": [{"field": "message.text", "op": "contains_any",
                                  "value": ["доставк", "delivery"]}]},
                 [{"action": "add_tags", "value": ["delivery"]}]))
    return CompiledRules.from_rows(rows)


def ns_per_call(rules: CompiledRules, ctx: RuleContext, number: int) -> float:
    best = min(timeit.repeat(lambda: rules.evaluate(ctx), number=number, repeat=5))
    return best / number * 1e9


def main() -> None:
    first_ctx = replace(CONTEXT, customer_tier="tier1", message_text="Это жалоба1 на курьера")
    nobody = replace(CONTEXT, message_text="Спасибо, всё хорошо")
    print("rules  first-rule-hit  last-rule-hit  no-match   (ns per evaluate, best of 5)")
    for count in (5, 50):
        rules = rules_of(count)
        assert rules.evaluate(first_ctx).rule_id == 1
        assert rules.evaluate(CONTEXT).rule_id == count
        assert rules.evaluate(nobody).rule_id is None
        number = 20_000 if count == 5 else 5_000
        print(f"{count:5d}  {ns_per_call(rules, first_ctx, number):14.0f}  "
              f"{ns_per_call(rules, CONTEXT, number):13.0f}  "
              f"{ns_per_call(rules, nobody, number):8.0f}")


if __name__ == "__main__":
    main()
