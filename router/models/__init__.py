"""All tables; importing this module registers every model on Base.metadata."""

from router.models.agents import Agent, AgentStream, Team, TeamMember
from router.models.auth import ApiKey
from router.models.base import Base
from router.models.cases import Case, CaseEvent, Rule
from router.models.channels import ChannelRow, ConnectorState, ServiceMeta
from router.models.csat import CsatResponse, CsatSurvey, TrendSpike
from router.models.customers import Customer, Identity, Merge, MergeSuggestion
from router.models.inbound import InboundEvent
from router.models.outbox import OutboxItem
from router.models.sla import BusinessHours, Experiment, SlaPolicy, SlaTimer
from router.models.threads import EarlyStatus, Message, MessageAlias, Thread
from router.models.uploads import Upload
from router.models.versions import ConfigVersion

__all__ = [
    "Agent",
    "AgentStream",
    "ApiKey",
    "Base",
    "BusinessHours",
    "Case",
    "CaseEvent",
    "ChannelRow",
    "ConfigVersion",
    "ConnectorState",
    "CsatResponse",
    "CsatSurvey",
    "Customer",
    "EarlyStatus",
    "Experiment",
    "Identity",
    "InboundEvent",
    "Merge",
    "MergeSuggestion",
    "Message",
    "MessageAlias",
    "OutboxItem",
    "Rule",
    "ServiceMeta",
    "SlaPolicy",
    "SlaTimer",
    "Team",
    "TeamMember",
    "Thread",
    "TrendSpike",
    "Upload",
]
