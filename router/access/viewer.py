"""Who is watching a live stream: which events it may carry, and the agent it keeps present.

A stream outlives the key cache, so the viewer follows the watching agent's own
`agent.updated` events (they pass through every replica's streams): a membership change
narrows or widens what the open stream shows at once, on every replica, and a deactivated
agent's stream goes silent.
"""

from __future__ import annotations

from typing import Any, Protocol

from router.access.scope import sees_everything
from router.auth.keys import Principal
from router.events.bus import Event

# Event data naming one of these concerns a thread; without a stamped team it is not shown
# to a scoped viewer (router/access/events.py stamps every such event it can).
SCOPED_KEYS = ("thread_id", "customer_id", "case_id")


class StreamPresence(Protocol):
    def opened(self, agent_id: int) -> None: ...

    def closed(self, agent_id: int) -> None: ...


class Viewer:
    __slots__ = ("agent_id", "everything", "presence", "revoked", "team_ids")

    def __init__(self, principal: Principal, presence: StreamPresence | None = None) -> None:
        self.everything = sees_everything(principal)
        self.agent_id = principal.agent_id
        self.team_ids = principal.team_ids
        self.presence = presence if principal.agent_id is not None else None
        self.revoked = False

    def admits(self, event: Event) -> bool:
        data = event.data
        if (self.agent_id is not None and event.type == "agent.updated"
                and data.get("id") == self.agent_id):
            self._follow(data)
        if self.revoked:
            return event.type == "stream.reset"
        if self.everything:
            return True
        if "team_id" in data:
            team_id = data["team_id"]
            return (team_id is None or team_id in self.team_ids
                    or (self.agent_id is not None and data.get("assignee_id") == self.agent_id))
        return not any(key in data for key in SCOPED_KEYS)

    def _follow(self, agent: dict[str, Any]) -> None:
        teams = agent.get("team_ids")
        if isinstance(teams, list):
            self.team_ids = frozenset(t for t in teams if isinstance(t, int))
        if agent.get("active") is False:
            self.revoked = True
        if self.everything and agent.get("role") != "admin":
            self.everything = False  # demoted; a promotion waits for the next connection

    def opened(self) -> None:
        if self.presence is not None and self.agent_id is not None:
            self.presence.opened(self.agent_id)

    def closed(self) -> None:
        if self.presence is not None and self.agent_id is not None:
            self.presence.closed(self.agent_id)


def viewer_for(principal: Principal, presence: StreamPresence | None) -> Viewer:
    if principal.agent_id is None:
        # Keys of nobody never change scope while streaming: one shared viewer per kind.
        return _EVERYTHING if sees_everything(principal) else _UNROUTED
    return Viewer(principal, presence)


_EVERYTHING = Viewer(Principal(name="", role="admin", key_id=None))
_UNROUTED = Viewer(Principal(name="", role="agent", key_id=None))
