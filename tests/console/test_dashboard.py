"""The dashboard's charts from report answers shaped as /v1/reports and /v1/experiments give.

The answers are routed in the browser (Playwright), so every chart, the spike highlight and the
p-values in words are checked on known figures; the real endpoints feed it in
test_support_flow.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.async_api import Browser, Page, Route, expect

from tests.console.test_live_whatsapp import sign_in
from tests.omni import ADMIN_KEY, OmniServer

TODAY = datetime.now(UTC).date()


def days(n: int) -> list[str]:
    return [(TODAY - timedelta(days=n - 1 - i)).isoformat() for i in range(n)]


def duration(median: float, p90: float) -> dict[str, Any]:
    return {"median": median, "p90": p90, "mean": (median + p90) / 2}


def csat(distribution: dict[str, int]) -> dict[str, Any]:
    responses = sum(distribution.values())
    mean = sum(int(k) * v for k, v in distribution.items()) / responses if responses else None
    return {"responses": responses, "mean": mean, "distribution": distribution,
            "satisfied_rate": None}


def row(key: str, label: str | None = None, **extra: Any) -> dict[str, Any]:
    base = {"key": key, "label": label, "cases": 10, "messages_in": 30,
            "first_response_seconds": duration(300, 900), "resolution_seconds": duration(1, 2),
            "fcr_rate": 0.5, "reopen_rate": 0.1, "sla_met_rate": 0.9,
            "csat": csat({"1": 0, "2": 0, "3": 0, "4": 0, "5": 0})}
    return {**base, **extra}


SUMMARY = {
    "day": [row(d, first_response_seconds=duration(60 * (i + 2), 60 * (i + 8)))
            for i, d in enumerate(days(7))],
    "team": [row("1", "Front line", sla_met_rate=0.92), row("2", "Specialists",
                                                            sla_met_rate=0.64)],
    "agent": [row("1", "Ada", csat=csat({"1": 1, "2": 0, "3": 2, "4": 5, "5": 12})),
              row("2", "Boris", csat=csat({"1": 2, "2": 3, "3": 1, "4": 2, "5": 1}))],
}
CASES = [{"case_id": i, "opened_at": f"{days(7)[i % 7]}T10:00:00Z",
          "channel_type": ["whatsapp", "email", "telegram"][i % 3]} for i in range(30)]
WEEKS = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
TAGS = [{"tag": "delivery", "period": w, "cases": c, "customers": c, "spike": w == "2026-W48",
         "baseline": 4.0} for w, c in zip(WEEKS, [4, 5, 3, 45], strict=True)] + [
    {"tag": "refund", "period": w, "cases": 2, "customers": 2, "spike": False, "baseline": 2.0}
    for w in WEEKS]


def quantiles(median: float) -> dict[str, Any]:
    return {"n": 40, "median": median, "median_ci95": [median * 0.8, median * 1.3],
            "p90": median * 3, "p90_ci95": None}


REPORT = {"experiment_id": 7, "status": "running", "buckets": [
    {"bucket": "control", "cases": 41, "first_response_seconds": quantiles(1800),
     "resolution_seconds": quantiles(7200),
     "sla_met": {"n": 41, "successes": 35, "rate": 0.85, "ci95": [0.72, 0.93]},
     "csat": {"responses": 20, "mean": 4.1, "mean_ci95": [3.7, 4.5]}},
    {"bucket": "fast", "cases": 39, "first_response_seconds": quantiles(600),
     "resolution_seconds": quantiles(6000),
     "sla_met": {"n": 39, "successes": 37, "rate": 0.95, "ci95": [0.83, 0.99]},
     "csat": {"responses": 18, "mean": 4.3, "mean_ci95": [3.9, 4.7]}}],
    "comparisons": [{"bucket": "fast", "against": "control",
                     "first_response_seconds": {"test": "Mann-Whitney U (two-sided)",
                                                "p_value": 0.003},
                     "resolution_seconds": {"test": "Mann-Whitney U (two-sided)",
                                            "p_value": 0.4},
                     "sla_met_rate": {"test": "two-proportion z-test", "p_value": 0.14},
                     "csat": {"test": "Mann-Whitney U (two-sided)", "p_value": 0.43}}]}
EXPERIMENTS = {"items": [{"id": 7, "name": "E-mail SLA 4h vs 12h", "status": "running"}],
               "next_cursor": None}


async def answer(route: Route) -> None:
    url = urlparse(route.request.url)
    query = parse_qs(url.query)
    body: Any
    if url.path == "/v1/reports/summary":
        body = {"items": SUMMARY[query["group_by"][0]], "next_cursor": None}
    elif url.path == "/v1/reports/cases":
        body = {"items": CASES, "next_cursor": None}
    elif url.path == "/v1/reports/tags":
        body = {"items": TAGS, "next_cursor": None}
    elif url.path == "/v1/experiments":
        body = EXPERIMENTS
    elif url.path == "/v1/experiments/7/report":
        body = REPORT
    else:
        await route.continue_()
        return
    await route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


async def chart(page: Page, canvas: str) -> dict[str, Any]:
    data: dict[str, Any] = await page.evaluate(
        f"(() => {{ const c = Chart.getChart(document.getElementById('{canvas}'));"
        " return {labels: c.data.labels, datasets: c.data.datasets.map(d => ({label: d.label,"
        " data: d.data, pointRadius: d.pointRadius, backgroundColor: d.backgroundColor,"
        " pointBackgroundColor: d.pointBackgroundColor}))}; })()")
    return data


async def test_charts_spikes_and_experiment_in_words(
        omni: OmniServer, browser: Browser, artifacts: Path) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.route("**/v1/reports/**", answer)
    await page.route("**/v1/experiments**", answer)
    await sign_in(page, omni, ADMIN_KEY)
    await page.get_by_role("link", name="Dashboard").click()
    await page.wait_for_function("() => Number(document.body.dataset.refreshed || 0) >= 1")
    await expect(page.get_by_role("alert")).to_be_hidden()

    volume = await chart(page, "chart-volume")
    assert volume["labels"][-7:] == [d[5:] for d in days(7)]
    assert {d["label"] for d in volume["datasets"]} == {"WhatsApp", "E-mail", "Telegram"}
    assert sum(sum(d["data"]) for d in volume["datasets"]) == 30
    frt = await chart(page, "chart-frt")
    assert [d["label"] for d in frt["datasets"]] == ["median", "p90"]
    assert frt["datasets"][0]["data"][:2] == [2, 3] and frt["datasets"][1]["data"][0] == 8
    sla = await chart(page, "chart-sla")
    assert sla["labels"] == ["Front line", "Specialists"]
    assert sla["datasets"][0]["data"] == [92, 64]
    assert sla["datasets"][0]["backgroundColor"][1] == "#dc2626"  # under 80 %: red
    distribution = await chart(page, "chart-csat")
    assert distribution["datasets"][0]["data"] == [3, 3, 3, 7, 13]
    by_agent = await chart(page, "chart-csat-agent")
    assert by_agent["labels"] == ["Ada", "Boris"]
    assert round(by_agent["datasets"][0]["data"][0], 2) == 4.35

    tags = await chart(page, "chart-tags")
    [delivery] = [d for d in tags["datasets"] if d["label"] == "delivery"]
    assert delivery["data"] == [4, 5, 3, 45]
    assert delivery["pointBackgroundColor"][3] == "#dc2626" and delivery["pointRadius"][3] > 3
    await expect(page.get_by_text("Spikes: delivery in the week of 2026-W48")).to_be_visible()

    experiment = page.get_by_role("region", name="Experiment")
    await expect(experiment.get_by_text("control: 41 cases · fast: 39 cases")).to_be_visible()
    frt_buckets = await chart(page, "chart-exp-frt")
    assert frt_buckets["labels"] == ["control", "fast"]
    assert frt_buckets["datasets"][0]["data"][1] == [8, 13]  # the interval, in minutes
    assert frt_buckets["datasets"][1]["data"] == [30, 10]
    verdicts = experiment.get_by_role("listitem")
    await expect(verdicts.filter(has_text="first response")).to_contain_text(
        "clearly different (p = 0.003")
    await expect(verdicts.filter(has_text="CSAT")).to_contain_text(
        "not yet significant (p = 0.430)")
    await page.screenshot(path=str(artifacts / "dashboard-fixture-1280x800.png"), full_page=True)
    await page.set_viewport_size({"width": 375, "height": 812})
    # The charts follow the narrower screen (Chart.js resizes on its ResizeObserver).
    await page.wait_for_function("() => document.documentElement.scrollWidth <= 375")
    await page.screenshot(path=str(artifacts / "dashboard-fixture-375x812.png"), full_page=True)
    assert errors == []


async def test_without_reports_each_chart_says_so(omni: OmniServer, browser: Browser) -> None:
    page = await browser.new_page()
    await page.route("**/v1/reports/**", lambda route: route.fulfill(
        status=404, content_type="application/problem+json",
        body=json.dumps({"type": "about:blank", "title": "Not Found", "status": 404,
                         "detail": "Not Found"})))
    await sign_in(page, omni, ADMIN_KEY)
    await page.goto(f"{omni.url}/console/dashboard")
    await page.wait_for_function("() => Number(document.body.dataset.refreshed || 0) >= 1")
    await expect(page.get_by_role("alert")).to_contain_text(
        "cases per day: reports are not available on this server")


async def test_signed_out_dashboard_points_to_the_console(
        omni: OmniServer, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{omni.url}/console/dashboard")
    await expect(page.get_by_text("Sign in on the console first")).to_be_visible()


async def test_a_real_experiment_without_data_says_not_enough_yet(
        omni: OmniServer, browser: Browser) -> None:
    policies = [(await omni.client.post("/v1/sla-policies", json={
        "name": name, "targets": [{"first_response_seconds": seconds}]})).json()["id"]
        for name, seconds in (("E-mail 12h", 43_200), ("E-mail 4h", 14_400))]
    experiment = (await omni.client.post("/v1/experiments", json={
        "name": "E-mail SLA 12h vs 4h", "filter": {"channel_types": ["email"]},
        "buckets": [{"name": "12h", "weight": 1, "sla_policy_id": policies[0]},
                    {"name": "4h", "weight": 1, "sla_policy_id": policies[1]}]})).json()
    started = await omni.client.post(f"/v1/experiments/{experiment['id']}/start")
    assert started.status_code == 200, started.text
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await sign_in(page, omni, ADMIN_KEY)
    await page.goto(f"{omni.url}/console/dashboard")
    await page.wait_for_function("() => Number(document.body.dataset.refreshed || 0) >= 1")
    await expect(page.get_by_role("alert")).to_be_hidden()
    region = page.get_by_role("region", name="Experiment")
    await expect(region.get_by_label("Experiment")).to_have_value(str(experiment["id"]))
    await expect(region.get_by_text("12h: 0 cases · 4h: 0 cases")).to_be_visible()
    verdicts = region.get_by_role("listitem")
    await expect(verdicts).to_have_count(4)
    texts = await verdicts.all_inner_texts()
    for text in texts:
        assert text.startswith("4h vs 12h, ") and "significant" not in text.replace(
            "not yet significant", ""), text
