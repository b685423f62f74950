"""Service settings from the environment (prefix OMNIROUTE_)."""

from __future__ import annotations

from typing import Literal

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.fetch.policy import FetchPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./omniroute.db"
    redis_url: str | None = None
    # Encrypts channel secrets at rest and signs tokens. Embedded default: generated and kept
    # in a file beside the SQLite database (see router/secret_key.py).
    secret_key: str | None = None
    admin_api_key: str | None = None
    # Public base URL of this service; webhook URLs and Telegram setWebhook use it.
    public_url: str | None = None

    # `serve` migrates a server database itself (under an advisory lock) instead of refusing
    # to start on an old schema; the embedded SQLite database is always migrated.
    migrate_on_start: bool = False
    # PostgreSQL connections per replica: the pool, and how far it may grow under bursts.
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Background workers; tests and single-purpose replicas may turn them off.
    run_workers: bool = True
    ingest_batch_size: int = Field(default=200, ge=1)
    # A batch commits after this long: it holds SQLite's write lock, and its live events wait
    # for its commit (bench/RESULTS.md: ack and webhook → agent latency under load).
    ingest_batch_seconds: float = Field(default=0.05, gt=0)
    # Inbound worker loops per replica on PostgreSQL (SQLite has one writer: always one). Each
    # loop takes the channels that hash to it, so with few busy channels a second loop mostly
    # adds an empty claim per wake-up (bench/NOTES.md, third pass): raise it for many busy
    # channels whose batches wait on the database more than on this process's CPU.
    ingest_concurrency: int = Field(default=1, ge=1)
    # A customer writing within this long of a case's resolution reopens it; later, a new
    # case starts (SUPPORT_PRACTICE: reopen rate is one of the headline numbers).
    reopen_window_seconds: int = Field(default=7 * 86_400, ge=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=600.0, gt=0)
    outbox_concurrency: int = Field(default=32, ge=1)
    # Added to a claim's lease beyond the sends' own timeouts: how long a reply claimed by a
    # replica that died (kill -9, lost node) waits before another replica retries it.
    outbox_lease_slack_seconds: float = Field(default=30.0, gt=0)
    # Consecutive failed attempts of one reply after which its channel shows unhealthy (the
    # next successful send clears it).
    outbox_unhealthy_after_attempts: int = Field(default=2, ge=1)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    # How many live events a replica keeps for clients resuming with Last-Event-ID.
    event_buffer_size: int = Field(default=10_000, ge=100)
    # Key of the live-event stream; distinct keys let several installations share one Redis.
    redis_stream: str = "omniroute:events"
    redis_stream_maxlen: int = Field(default=100_000, ge=1000)
    # Hosts and networks a fetch of someone else's URL (attachment links, agents' outbound
    # files) may reach although they are internal: comma-separated host names, `*.domain`
    # and IP networks, for self-hosted media. Empty: only public addresses.
    fetch_allow_hosts: str = ""
    fetch_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    fetch_timeout_seconds: float = Field(default=300.0, gt=0)
    # Files web-chat visitors upload: kept this long, and at most this much per visitor and
    # per channel (unexpired uploads), so anonymous uploads cannot grow the database unbounded.
    upload_ttl_days: float = Field(default=30.0, gt=0)
    upload_quota_files: int = Field(default=20, ge=1)
    upload_quota_bytes: int = Field(default=20_000_000, ge=1)
    upload_channel_bytes: int = Field(default=1024 ** 3, ge=1)
    # An agent whose live streams have all closed (on every replica) goes offline this long
    # after the last one closed, unless one opens again: a reload or a flaky network is not
    # a departure.
    presence_grace_seconds: float = Field(default=60.0, ge=0)
    # `serve --workers-process` runs the workers in a child process (router/worker_link.py).
    workers_process: bool = False
    # Set by `serve --workers-process` for itself and its child (the socket joining them).
    server_link_fd: int | None = None
    worker_link_fd: int | None = None
    log_level: str = "INFO"
    # auto: readable text when stdout is a terminal, one JSON object per line otherwise.
    log_format: Literal["auto", "json", "text"] = "auto"
    # One line per HTTP request (method, route, status, duration, request id; never the
    # query string) at INFO.
    access_log: bool = True
    # On SIGTERM: how long in-flight requests may take before the server closes them.
    shutdown_grace_seconds: int = Field(default=10, ge=1)
    # Tag trends: a tag's latest period is a spike when it has at least `spike_min_cases`
    # and more than `spike_factor` times its mean over the `spike_trailing` periods before.
    spike_factor: float = Field(default=2.0, gt=1)
    spike_min_cases: int = Field(default=5, ge=1)
    spike_trailing: int = Field(default=4, ge=1)
    # How often each replica looks for a spike today (the insert that wins raises the event).
    spike_check_seconds: float = Field(default=60.0, gt=0)
    # FastAPI's native OpenTelemetry spans, metrics and logs. Off unless asked for: /metrics
    # already covers the service, and with no provider configured the per-request check cost
    # about a sixth of a webhook request's CPU (bench/NOTES.md).
    opentelemetry: bool = False

    # Rate limits, in the `limits` notation ("100/second", "10 per 20 seconds", several joined
    # by ";"). Counted per replica in memory, or across replicas in Redis when redis_url is
    # set; webhooks always count in memory (router/ratelimit/webhooks.py says why).
    # Per API key on /v1. Generous: one integration key pulls thousands of requests in a
    # burst (the bench opens 10,000 event streams with one key in under two seconds).
    rate_limit_api_key: str = "20000/minute"
    # Per web-chat visitor, for messages and uploads and apart from them for resumed sessions
    # (the widget's old budget: a burst of 10, then one every 2 s).
    rate_limit_visitor: str = "10 per 20 seconds"
    # New web-chat visitors per client address and channel: offices share one NAT.
    rate_limit_visitor_sessions: str = "60/minute"
    # Webhooks (/webhooks/*, /v1/channels/{id}/inbound), per channel and per channel and
    # source address; above the thousands of msg/s one channel takes (bench/), well below
    # what would swamp a replica.
    rate_limit_webhook_channel: str = "10000/second"
    rate_limit_webhook_source: str = "5000/second"

    @field_validator("rate_limit_api_key", "rate_limit_visitor", "rate_limit_visitor_sessions",
                     "rate_limit_webhook_channel", "rate_limit_webhook_source")
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate limit like '100/second' or "
                             "'10 per 20 seconds'") from exc
        return value

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _allow_list_parses(cls, value: str) -> str:
        FetchPolicy.parse(value)  # a typo must stop start-up, not quietly allow nothing
        return value
