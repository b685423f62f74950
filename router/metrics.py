"""Prometheus metrics, one registry per app so tests and replicas stay independent."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "omniroute_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "omniroute_http_request_seconds", "HTTP request latency", ["route"],
            registry=self.registry,
        )
        self.inbound_accepted = Counter(
            "omniroute_inbound_events_accepted_total", "Raw events stored", ["channel_type"],
            registry=self.registry,
        )
        self.inbound_processed = Counter(
            "omniroute_inbound_events_processed_total", "Raw events processed", ["result"],
            registry=self.registry,
        )
        self.ingest_lag = Histogram(
            "omniroute_ingest_lag_seconds", "From storing a raw event to processing it",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.inbound_backlog = Gauge(
            "omniroute_inbound_backlog", "Raw events waiting to be processed",
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "omniroute_outbox_depth", "Deliveries waiting in the outbox", registry=self.registry
        )
        self.outbox_sent = Counter(
            "omniroute_outbox_sent_total", "Deliveries sent", ["channel_type"],
            registry=self.registry,
        )
        self.outbox_failures = Counter(
            "omniroute_outbox_failures_total", "Failed delivery attempts",
            ["channel_type", "permanent"], registry=self.registry,
        )

        self.sla_breaches = Counter(
            "omniroute_sla_breaches_total", "SLA breaches recorded on cases", ["metric"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)
