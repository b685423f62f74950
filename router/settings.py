"""Service settings from the environment (prefix OMNIROUTE_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=600.0, gt=0)
    outbox_concurrency: int = Field(default=32, ge=1)
    send_timeout_seconds: float = Field(default=30.0, gt=0)
    # How many live events a replica keeps for clients resuming with Last-Event-ID.
    event_buffer_size: int = Field(default=10_000, ge=100)
    # Key of the live-event stream; distinct keys let several installations share one Redis.
    redis_stream: str = "omniroute:events"
    redis_stream_maxlen: int = Field(default=100_000, ge=1000)
    log_level: str = "INFO"
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
