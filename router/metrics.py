"""Prometheus metrics, one registry per app so tests and replicas stay independent.

Every labelled family is created with its known label values at zero, so a dashboard or an
alert finds its series before the first event (and a test can check that each metric they
name exists). The SLA and assignment families are defined here for the support layer to
increment: `sla_breaches.labels(metric).inc()`, `sla_warnings.labels(metric).inc()`,
`assignment_wait.observe(seconds)`, `assignments.labels(how).inc()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SLA_METRICS = ("first_response", "next_response", "resolution")
ASSIGNMENT_KINDS = ("round_robin", "least_loaded", "sticky", "manual", "rule", "pull")
DELIVERY_RESULTS = ("sent", "retry", "dead")
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400)


class Metrics:
    def __init__(self, channel_types: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        self.requests = Counter(
            "omniroute_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=reg)
        self.request_seconds = Histogram(
            "omniroute_http_request_seconds", "HTTP request latency", ["route"], registry=reg)
        # Ingest: an "accepted" raw event is one acknowledged to its provider (stored).
        self.inbound_accepted = Counter(
            "omniroute_inbound_events_accepted_total", "Raw events stored and acknowledged",
            ["channel_type"], registry=reg)
        self.inbound_unavailable = Counter(
            "omniroute_inbound_events_refused_total",
            "Webhook requests answered 503 because the database was unavailable", registry=reg)
        self.inbound_processed = Counter(
            "omniroute_inbound_events_processed_total", "Raw events processed", ["result"],
            registry=reg)
        self.ingest_lag = Histogram(
            "omniroute_ingest_lag_seconds", "From storing a raw event to processing it",
            registry=reg, buckets=LAG_BUCKETS)
        self.inbound_backlog = Gauge(
            "omniroute_inbound_backlog", "Raw events waiting to be processed (capped)",
            registry=reg)
        self.inbound_oldest = Gauge(
            "omniroute_inbound_oldest_age_seconds",
            "Age of the oldest raw event waiting to be processed (0: none)", registry=reg)
        # Outbox.
        self.outbox_depth = Gauge(
            "omniroute_outbox_depth", "Deliveries waiting in the outbox (capped)", registry=reg)
        self.outbox_oldest = Gauge(
            "omniroute_outbox_oldest_age_seconds",
            "Age of the oldest reply waiting in the outbox (0: none)", registry=reg)
        self.outbox_sent = Counter(
            "omniroute_outbox_sent_total", "Deliveries sent", ["channel_type"], registry=reg)
        self.outbox_failures = Counter(
            "omniroute_outbox_failures_total", "Failed delivery attempts",
            ["channel_type", "permanent"], registry=reg)
        self.deliveries = Counter(
            "omniroute_deliveries_total",
            "Delivery attempts by channel type and result (sent, retry, dead)",
            ["channel_type", "result"], registry=reg)
        self.dead_letters = Counter(
            "omniroute_outbox_dead_letters_total", "Replies given up on (dead letters)",
            ["channel_type"], registry=reg)
        # Channels and live events.
        self.channels_unhealthy = Gauge(
            "omniroute_channels_unhealthy", "Channels currently marked unhealthy", registry=reg)
        self.event_clients = Gauge(
            "omniroute_event_stream_clients", "Live event clients (SSE and WebSocket) here",
            registry=reg)
        self.events_spooled = Gauge(
            "omniroute_events_spooled",
            "Live events committed while Redis was unreachable, not yet published",
            registry=reg)
        # The support layer (routing, SLA) increments these.
        self.sla_breaches = Counter(
            "omniroute_sla_breaches_total", "SLA breaches (once per metric per case)",
            ["metric"], registry=reg)
        self.sla_warnings = Counter(
            "omniroute_sla_warnings_total", "SLA warnings before a breach", ["metric"],
            registry=reg)
        self.assignment_wait = Histogram(
            "omniroute_assignment_wait_seconds",
            "From a case opening (or reopening) to its assignment to an agent",
            registry=reg, buckets=WAIT_BUCKETS)
        self.assignments = Counter(
            "omniroute_assignments_total", "Cases assigned, by how", ["how"], registry=reg)
        self._zero(tuple(channel_types))

    def _zero(self, channel_types: tuple[str, ...]) -> None:
        for channel_type in channel_types:
            self.inbound_accepted.labels(channel_type)
            self.outbox_sent.labels(channel_type)
            self.dead_letters.labels(channel_type)
            for permanent in ("true", "false"):
                self.outbox_failures.labels(channel_type, permanent)
            for result in DELIVERY_RESULTS:
                self.deliveries.labels(channel_type, result)
        for result in ("processed", "failed"):
            self.inbound_processed.labels(result)
        for metric in SLA_METRICS:
            self.sla_breaches.labels(metric)
            self.sla_warnings.labels(metric)
        for how in ASSIGNMENT_KINDS:
            self.assignments.labels(how)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def delivery(self, channel_type: str, result: str) -> None:
        self.deliveries.labels(channel_type, result).inc()
