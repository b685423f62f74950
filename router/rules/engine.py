"""Routing rules compiled for evaluation: the interface the case lifecycle calls.

`load_rules(session)` answers the compiled enabled rules, in `position` order (then id). It
reads one primary-key row per call (the rule set's version token, replaced in the same
transaction as every rule change on any replica) and recompiles only when that token moved.
`CompiledRules.evaluate(ctx)` is pure: closures and precompiled patterns, first match wins.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from router.rules.compile import CompiledRule, RuleError, compile_rule
from router.rules.conditions import Predicate, Prepared
from router.rules.context import NO_MATCH, RuleAction, RuleContext, RuleMatch, context_of
from router.rules.repository import enabled_rules, rules_version

__all__ = [
    "NO_MATCH", "CompiledRules", "RuleAction", "RuleContext", "RuleMatch", "context_of",
    "load_rules",
]

log = logging.getLogger("omniroute.rules")
NO_TAGS: frozenset[str] = frozenset()


def _fold_text(text: Any) -> str:
    return text.casefold() if isinstance(text, str) else ""


def _fold_tags(tags: Any) -> frozenset[str]:
    return frozenset(t.casefold() for t in tags or () if isinstance(t, str))


class CompiledRules:
    """The enabled rules in evaluation order, ready to run."""

    __slots__ = ("_fold_customer_tags", "_fold_text", "_fold_thread_tags", "_rules",
                 "reads_business_hours", "rule_ids")

    def __init__(self, rules: Iterable[CompiledRule] = ()) -> None:
        compiled = tuple(rules)
        self._rules: tuple[tuple[Predicate, RuleMatch], ...] = tuple(
            (rule.test, RuleMatch(rule.rule_id, rule.actions)) for rule in compiled)
        self._fold_text = any(rule.reads_text for rule in compiled)
        self._fold_customer_tags = any(rule.reads_customer_tags for rule in compiled)
        self._fold_thread_tags = any(rule.reads_thread_tags for rule in compiled)
        # Working out business hours costs reads (team, policy, calendar): only when asked.
        self.reads_business_hours = any(rule.reads_business_hours for rule in compiled)
        self.rule_ids = tuple(rule.rule_id for rule in compiled)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int | None, Any, Any]]) -> CompiledRules:
        """Compile stored rules; one that no longer compiles is skipped, never fatal."""
        compiled: list[CompiledRule] = []
        for rule_id, when, then in rows:
            try:
                compiled.append(compile_rule(rule_id, when, then))
            except RuleError as exc:
                # Saved rules were validated; this is a rule from another version's rules.
                log.error("rule %s is skipped: %s", rule_id, exc)
        return cls(compiled)

    def __len__(self) -> int:
        return len(self._rules)

    def evaluate(self, ctx: RuleContext) -> RuleMatch:
        """The first matching rule's id and actions, or NO_MATCH."""
        prepared = Prepared(
            _fold_text(ctx.message_text) if self._fold_text else "",
            _fold_tags(ctx.customer_tags) if self._fold_customer_tags else NO_TAGS,
            _fold_tags(ctx.thread_tags) if self._fold_thread_tags else NO_TAGS,
        )
        for test, match in self._rules:
            try:
                if test(ctx, prepared):
                    return match
            except Exception:
                # A context value of an unexpected type: that rule does not match; the rest
                # still run, and ingest never fails on a rule.
                log.exception("rule %s failed to evaluate; treated as no match", match.rule_id)
        return NO_MATCH


# Per connection pool (one per engine, shared by its read and write sessions): the version
# token the compiled rules were built from.
_CACHE: weakref.WeakKeyDictionary[Any, tuple[str | None, CompiledRules]] = (
    weakref.WeakKeyDictionary())


async def load_rules(session: AsyncSession) -> CompiledRules:
    """The compiled enabled rules; recompiled only when any replica changed them."""
    # Token first, then rows: rows read after the token are at least that new, so a change
    # committed in between only causes one more reload, never a stale cache.
    token = await rules_version(session)
    bind = session.get_bind()
    pool = bind.pool if isinstance(bind, Engine) else bind.engine.pool
    cached = _CACHE.get(pool)
    if cached is not None and cached[0] == token:
        return cached[1]
    rules = CompiledRules.from_rows(await enabled_rules(session))
    _CACHE[pool] = (token, rules)
    return rules
