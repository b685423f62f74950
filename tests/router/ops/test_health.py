"""Liveness, readiness and metrics."""

from __future__ import annotations

from tests.apichannel import inbound, post_inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer


async def test_health_ready_and_metrics(omni: OmniServer) -> None:
    assert (await omni.client.get("/healthz")).json() == {"status": "ok"}
    ready = await omni.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "inbound": "ok", "outbox": "ok"}
    created = await omni.create_channel("api", "bot", {})
    await post_inbound(omni.client, created["id"], created["generated_secrets"]["secret"],
                       inbound("u", "m", "hello"))
    await omni.settle()
    metrics = (await omni.client.get("/metrics")).text
    assert 'omniroute_inbound_events_accepted_total{channel_type="api"} 1.0' in metrics
    assert 'omniroute_inbound_events_processed_total{result="processed"} 1.0' in metrics
    assert "omniroute_outbox_depth 0.0" in metrics
    assert "omniroute_ingest_lag_seconds_count 1.0" in metrics


async def test_not_ready_without_workers(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False)
    ready = await omni.client.get("/readyz")
    assert ready.status_code == 200  # a replica configured without workers is ready as it is
    assert ready.json()["checks"] == {"database": "ok"}
