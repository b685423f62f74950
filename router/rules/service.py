"""Saving rules (validated whole: a rule that was accepted is a rule that runs) and dry runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.access.scope import visible_customer
from router.auth.keys import Principal
from router.core import Core
from router.customers.repository import live_customer
from router.errors import NotFound, Unprocessable
from router.models import Agent, ChannelRow, Customer, Rule, SlaPolicy, Team, Thread
from router.rules.actions import REFERENCES
from router.rules.compile import RuleError, compile_rule
from router.rules.context import context_of
from router.rules.engine import RuleContext, RuleMatch, load_rules
from router.rules.repository import bump_rules_version, next_position
from router.rules.schemas import RuleIn, RulePatch, RuleTestIn

REFERENCED_MODELS: dict[str, type[Team] | type[SlaPolicy] | type[Agent]] = {
    "set_team": Team, "set_sla_policy": SlaPolicy, "assign_agent": Agent,
}


class InvalidRule(Unprocessable):
    slug, title = "invalid-rule", "Invalid rule"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}",
                         extra={"errors": [{"field": where, "message": message}]})


def rule_view(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "position": rule.position, "enabled": rule.enabled,
            "when": rule.when, "then": rule.then, "created_at": rule.created_at,
            "updated_at": rule.updated_at}


async def get_rule(session: AsyncSession, rule_id: int) -> Rule:
    rule = await session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} does not exist")
    return rule


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


async def _check_references(core: Core, session: AsyncSession, when: Mapping[str, Any],
                            then: Iterable[Mapping[str, Any]]) -> None:
    """Teams, SLA policies, agents and channels a rule names exist (channel types are known)."""
    mode, conditions = next(iter(when.items()))
    for index, condition in enumerate(conditions):
        where = f"when.{mode}.{index}.value"
        if condition["field"] == "channel.type":
            for value in _values(condition["value"]):
                if value not in core.connectors:
                    raise InvalidRule(where, f"unknown channel type '{value}'; types are: "
                                      + ", ".join(sorted(core.connectors)))
        elif condition["field"] == "channel.id":
            for value in _values(condition["value"]):
                if await session.get(ChannelRow, str(value).strip()) is None:
                    raise InvalidRule(where, f"channel '{value}' does not exist")
    for index, action in enumerate(then):
        model = REFERENCED_MODELS.get(action["action"])
        if model is None:
            continue
        row = await session.get(model, action["value"])
        # Soft-deleted teams keep their row for reports (`deleted_at`); retired agents too.
        gone = row is None or getattr(row, "deleted_at", None) is not None \
            or (isinstance(row, Agent) and not row.active)
        if gone:
            raise InvalidRule(f"then.{index}.value", f"{REFERENCES[action['action']]} "
                              f"{action['value']} does not exist")


async def validate(core: Core, session: AsyncSession, when: Mapping[str, Any],
                   then: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions as stored (tags trimmed and deduplicated), or InvalidRule naming the part."""
    try:
        compiled = compile_rule(None, when, then)
    except RuleError as exc:
        raise InvalidRule(exc.where, exc.message) from None
    await _check_references(core, session, when, then)
    return [{"action": a.action, "value": list(a.value) if isinstance(a.value, tuple) else a.value}
            for a in compiled.actions]


async def create_rule(core: Core, session: AsyncSession, body: RuleIn) -> Rule:
    when, then = body.when.stored(), [a.model_dump() for a in body.then]
    then = await validate(core, session, when, then)
    # The version row first: on PostgreSQL its lock queues concurrent changes, so two rules
    # created at once still get distinct default positions.
    await bump_rules_version(session)
    position = body.position if body.position is not None else await next_position(session)
    rule = Rule(name=body.name, position=position, enabled=body.enabled, when=when,
                then=then)
    session.add(rule)
    await session.flush()
    return rule


async def update_rule(core: Core, session: AsyncSession, rule: Rule, body: RulePatch) -> Rule:
    fields = body.model_fields_set
    for name in ("name", "position", "enabled"):
        if name in fields and getattr(body, name) is None:
            raise Unprocessable(f"{name} cannot be null",
                                extra={"errors": [{"field": name, "message": "cannot be null"}]})
    if ("when" in fields and body.when is None) or ("then" in fields and body.then is None):
        raise Unprocessable("when and then cannot be null")
    when = body.when.stored() if body.when is not None else rule.when
    then = [a.model_dump() for a in body.then] if body.then is not None else rule.then
    then = await validate(core, session, when, then)
    await bump_rules_version(session)
    if body.name is not None:
        rule.name = body.name
    if body.position is not None:
        rule.position = body.position
    if body.enabled is not None:
        rule.enabled = body.enabled
    rule.when, rule.then = when, then
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, rule: Rule) -> None:
    await bump_rules_version(session)
    await session.delete(rule)
    await session.flush()


async def rules_referencing(session: AsyncSession, action: str, target_id: int) -> list[int]:
    """Ids of rules whose actions name this team/SLA policy/agent (`action` as in `then`).

    For whoever deletes a team, policy or agent: refuse (409) while a rule still names it,
    so no saved rule ever points at nothing.
    """
    rows = await session.execute(select(Rule.id, Rule.then).order_by(Rule.id))
    return [rule_id for rule_id, then in rows
            if any(a.get("action") == action and a.get("value") == target_id
                   for a in then or [])]


async def context_for_test(session: AsyncSession, body: RuleTestIn,
                           principal: Principal) -> RuleContext:
    channel = await session.get(ChannelRow, body.channel_id)
    if channel is None:
        raise Unprocessable(f"channel '{body.channel_id}' does not exist", extra={
            "errors": [{"field": "channel_id", "message": "no such channel"}]})
    customer = None
    thread = None
    if body.customer_id is not None:
        customer = await session.get(Customer, body.customer_id)
        if customer is None:
            raise Unprocessable(f"customer {body.customer_id} does not exist", extra={
                "errors": [{"field": "customer_id", "message": "no such customer"}]})
        # A dry run shows what rules read of a customer (tier, attributes): only of one the
        # caller may see (404 otherwise, as everywhere).
        await visible_customer(session, principal, customer.id)
        customer = await live_customer(session, customer.id)  # a merged one: who holds it now
        thread = await session.scalar(select(Thread).where(Thread.customer_id == customer.id))
    return context_of(channel.type, channel.id, customer, thread, body.text, body.business_hours)


async def dry_run(session: AsyncSession, body: RuleTestIn,
                  principal: Principal) -> dict[str, Any]:
    """Which rule a message would hit, with the very rules ingest uses; changes nothing."""
    context = await context_for_test(session, body, principal)
    match: RuleMatch = (await load_rules(session)).evaluate(context)
    name = None
    if match.rule_id is not None:
        rule = await session.get(Rule, match.rule_id)
        name = rule.name if rule is not None else None
    return {"rule_id": match.rule_id, "rule_name": name, "actions": [
        {"action": a.action, "value": list(a.value) if isinstance(a.value, tuple) else a.value}
        for a in match.actions]}
