"""The dashboard and the alert rules name only metrics a running replica exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.omni import OmniServer

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
METRIC = re.compile(r"\bomniroute_[a-z0-9_]+")


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "omniroute.json").read_text())
    assert dashboard["panels"], "the dashboard has no panels"
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert all(exprs)
    return exprs


def _alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    rules: list[dict[str, Any]] = [rule for group in document["groups"]
                                   for rule in group["rules"]]
    for rule in rules:
        assert rule["alert"].startswith("Omniroute") and rule["expr"], rule
        assert rule["labels"]["severity"] in {"page", "warn"}
        assert rule["annotations"]["summary"]
    return rules


async def _exported(omni: OmniServer) -> set[str]:
    # The request families have a series per route once a request was served.
    assert (await omni.client.get("/healthz")).status_code == 200
    answer = await omni.client.get("/metrics")
    assert answer.status_code == 200
    return {sample.name for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


async def test_dashboard_and_alerts_name_only_exported_metrics(omni: OmniServer) -> None:
    exported = await _exported(omni)
    named = {name for expr in _dashboard_expressions() for name in METRIC.findall(expr)}
    rules = _alert_rules()
    alerted = {name for rule in rules for name in METRIC.findall(rule["expr"])}
    assert not (named | alerted) - exported, sorted((named | alerted) - exported)
    # What the issue asks to page on is covered.
    alerts = {rule["alert"] for rule in rules}
    assert {"OmnirouteProcessingLag", "OmnirouteOutboxAge", "OmnirouteDeadLetters",
            "OmnirouteSlaBreachRate", "OmnirouteUnhealthyChannels"} <= alerts


async def test_the_support_layer_metrics_exist_before_their_first_event(
        omni: OmniServer) -> None:
    exported = await _exported(omni)
    for name in ("omniroute_sla_breaches_total", "omniroute_sla_warnings_total",
                 "omniroute_assignment_wait_seconds_count", "omniroute_assignments_total",
                 "omniroute_event_stream_clients", "omniroute_outbox_oldest_age_seconds",
                 "omniroute_inbound_oldest_age_seconds", "omniroute_deliveries_total",
                 "omniroute_channels_unhealthy"):
        assert name in exported, name
