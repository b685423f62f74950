"""Actions as data: what each one's value must be, normalised for the engine.

| action | value |
|---|---|
| set_team | a team id |
| set_priority | low, normal, high or urgent |
| add_tags | a list of tags (1-64 characters each, at most 20) |
| set_sla_policy | an SLA policy id |
| assign_agent | an agent id |

That the ids exist is checked by the service when the rule is saved (it needs the database).
"""

from __future__ import annotations

from typing import Any

from connectors.customer_facts import FactError, clean_tags
from router.ids import MAX_ID
from router.rules.conditions import PRIORITY_RANK

ACTIONS = ("set_team", "set_priority", "add_tags", "set_sla_policy", "assign_agent")
# The actions whose value names a row elsewhere: what the service checks exists.
REFERENCES = {"set_team": "team", "set_sla_policy": "SLA policy", "assign_agent": "agent"}
MAX_RULE_TAGS = 20


class ActionError(ValueError):
    """An action a rule may not have; `where` is "action" or "value"."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


def normalise_action(action: Any, value: Any) -> Any:
    """The value as the engine hands it out (tags become a tuple), or ActionError."""
    if action not in ACTIONS:
        raise ActionError("action", f"unknown action '{action}'; actions are: "
                          + ", ".join(ACTIONS))
    if action in REFERENCES:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise ActionError("value", f"{action} needs the id of a {REFERENCES[action]} "
                              "(a positive integer)")
        return value
    if action == "set_priority":
        if not isinstance(value, str) or value not in PRIORITY_RANK:
            raise ActionError("value", "set_priority takes one of " + ", ".join(PRIORITY_RANK))
        return value
    if not isinstance(value, list) or not value:
        raise ActionError("value", "add_tags needs a non-empty list of tags")
    try:
        tags = clean_tags(value, limit=MAX_RULE_TAGS)
    except FactError as exc:
        raise ActionError("value", str(exc)) from None
    return tuple(tags)
