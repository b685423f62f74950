"""Reports equal figures computed independently from a known scenario; CSV equals JSON."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import MakeOmni
from tests.router.reports.scenario import START, TAGS, expected, seed

PERIOD = {"from": START.isoformat(), "to": (START + timedelta(days=28)).isoformat()}


def close(actual: float | None, wanted: float | None, places: int = 1) -> bool:
    if wanted is None or actual is None:
        return actual is wanted
    return abs(actual - wanted) <= 10 ** -places


def check_row(row: dict[str, Any], want: dict[str, Any]) -> None:
    assert row["cases"] == want["cases"]
    assert row["messages_in"] == want["messages_in"]
    frt, res = row["first_response_seconds"], row["resolution_seconds"]
    assert close(frt["median"], want["frt_median"]), (frt, want)
    assert close(frt["p90"], want["frt_p90"]), (frt, want)
    assert close(frt["mean"], want["frt_mean"]), (frt, want)
    assert close(res["median"], want["res_median"]) and close(res["p90"], want["res_p90"])
    for name in ("fcr_rate", "reopen_rate", "sla_met_rate"):
        assert close(row[name], want[name], 3), (name, row[name], want[name])
    assert row["csat"]["responses"] == want["csat_responses"]
    assert close(row["csat"]["mean"], want["csat_mean"], 2)
    assert row["csat"]["distribution"] == want["csat_dist"]
    assert close(row["csat"]["satisfied_rate"], want["satisfied"], 3)


@pytest.mark.parametrize("group_by", ["channel_type", "team", "agent", "tag", "priority",
                                      "week"])
async def test_summary_equals_independent_figures(make_omni: MakeOmni, group_by: str) -> None:
    omni = await make_omni(run_workers=False)
    known = await seed(omni.core)
    response = await omni.client.get("/v1/reports/summary",
                                     params={**PERIOD, "group_by": group_by})
    assert response.status_code == 200, response.text
    rows = {row["key"]: row for row in response.json()["items"]}

    def key_of(case: dict[str, Any]) -> list[str]:
        if group_by == "tag":
            return case["tags"] or ["(none)"]
        if group_by == "week":
            day = case["opened_at"].date()
            return [(day - timedelta(days=day.weekday())).isoformat()]
        column = {"team": "team_id", "agent": "assignee_id"}.get(group_by, group_by)
        value = case[column]
        return ["(none)" if value is None else str(value)]

    groups: dict[str, list[dict[str, Any]]] = {}
    for case in known.cases:
        for key in key_of(case):
            groups.setdefault(key, []).append(case)
    assert set(rows) == set(groups)
    for key, cases in groups.items():
        check_row(rows[key], expected(cases))
    if group_by == "team":
        assert rows[str(known.team_ids[1])]["label"] == "Line 2"


async def test_summary_csv_equals_json(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False)
    await seed(omni.core, count=60)
    params = {**PERIOD, "group_by": "channel_type"}
    body = (await omni.client.get("/v1/reports/summary", params=params)).json()["items"]
    response = await omni.client.get("/v1/reports/summary", params=params,
                                     headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert [line["key"] for line in lines] == [row["key"] for row in body]
    for line, row in zip(lines, body, strict=True):
        assert int(line["cases"]) == row["cases"]
        assert line["first_response_seconds.median"] == str(row["first_response_seconds"]
                                                            ["median"] or "")
        assert int(line["csat.distribution.5"]) == row["csat"]["distribution"]["5"]


async def test_cases_report_pages_and_streams_every_case(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False)
    known = await seed(omni.core, count=130)
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {**PERIOD, "limit": 50}
        if cursor:
            params["cursor"] = cursor
        page = (await omni.client.get("/v1/reports/cases", params=params)).json()
        seen += [row["case_id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    by_time = sorted(known.cases, key=lambda c: (c["opened_at"], c["id"]))
    assert seen == [c["id"] for c in by_time]
    response = await omni.client.get("/v1/reports/cases", params=PERIOD,
                                     headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["case_id"]) for r in rows] == seen
    first = by_time[0]
    assert rows[0]["tags"] == ";".join(first["tags"])
    assert rows[0]["csat_score"] == ("" if first["csat"] is None else str(first["csat"]))


async def test_tags_count_cases_and_distinct_customers(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False)
    known = await seed(omni.core)
    response = await omni.client.get("/v1/reports/tags",
                                     params={**PERIOD, "interval": "week"})
    assert response.status_code == 200, response.text
    rows = {(r["tag"], r["period"]): r for r in response.json()["items"]}
    for tag in TAGS:
        for week in range(4):
            monday = (START + timedelta(days=7 * week)).date()
            cases = [c for c in known.cases if tag in c["tags"]
                     and monday <= c["opened_at"].date() < monday + timedelta(days=7)]
            row = rows.get((tag, monday.isoformat()))
            if not cases:
                assert row is None
                continue
            assert row is not None and row["cases"] == len(cases)
            assert row["customers"] == len({c["customer_id"] for c in cases})


@pytest.mark.parametrize("params, problem", [
    ({"from": "2026-11-10T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "before"),
    ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "at most"),
    ({"tz": "Mars/Olympus"}, "IANA"),
    ({"group_by": "moon"}, "group_by"),
])
async def test_bad_report_parameters_are_422(
    make_omni: MakeOmni, params: dict[str, str], problem: str
) -> None:
    omni = await make_omni(run_workers=False)
    response = await omni.client.get("/v1/reports/summary", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert problem in response.text


async def test_agents_may_not_read_reports(make_omni: MakeOmni) -> None:
    from router.auth.keys import create_key

    omni = await make_omni(run_workers=False)
    async with omni.core.unit() as session:
        _, key = await create_key(session, "a", "agent")
    response = await omni.client.get("/v1/reports/summary",
                                     headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


async def test_days_follow_the_readers_zone_across_dst(make_omni: MakeOmni) -> None:
    from datetime import UTC, datetime

    from router.models import Case, Customer, Thread

    omni = await make_omni(run_workers=False)
    moments = ["2026-10-24T22:30:00", "2026-10-25T22:30:00", "2026-10-26T23:30:00",
               "2026-03-28T23:30:00", "2026-03-29T22:30:00"]
    async with omni.core.unit() as session:
        for n, moment in enumerate(moments):
            customer = Customer(name=str(n))
            session.add(customer)
            await session.flush()
            thread = Thread(customer_id=customer.id)
            session.add(thread)
            await session.flush()
            session.add(Case(thread_id=thread.id, customer_id=customer.id, tags=["t"],
                             opened_at=datetime.fromisoformat(moment).replace(tzinfo=UTC)))
    params = {"from": "2026-03-01T00:00:00Z", "to": "2026-11-01T00:00:00Z",
              "tz": "Europe/Berlin"}
    days = {row["key"]: row["cases"] for row in (await omni.client.get(
        "/v1/reports/summary", params={**params, "group_by": "day"})).json()["items"]}
    # CEST (UTC+2) until 25 October 01:00 UTC, CET (UTC+1) after; CET → CEST on 29 March.
    assert days == {"2026-10-25": 2, "2026-10-27": 1, "2026-03-29": 1, "2026-03-30": 1}
    weeks = {(row["tag"], row["period"]): row["cases"] for row in (await omni.client.get(
        "/v1/reports/tags", params={**params, "interval": "week"})).json()["items"]}
    assert weeks == {("t", "2026-10-19"): 2, ("t", "2026-10-26"): 1, ("t", "2026-03-23"): 1,
                     ("t", "2026-03-30"): 1}


async def test_a_supervisor_reads_only_their_teams_cases(make_omni: MakeOmni) -> None:
    from tests.people import make_agent, make_key

    omni = await make_omni(run_workers=False)
    known = await seed(omni.core, count=60)
    line_two = known.team_ids[1]
    lead = await make_agent(omni, "Lead", role="supervisor", team_ids=[line_two])
    key = await make_key(omni, "lead", agent_id=lead["id"])
    response = await omni.client.get("/v1/reports/summary", headers={"Authorization":
                                     f"Bearer {key}"}, params={**PERIOD, "group_by": "team"})
    assert response.status_code == 200, response.text
    rows = response.json()["items"]
    assert [row["key"] for row in rows] == [str(line_two)]
    assert rows[0]["cases"] == sum(1 for c in known.cases if c["team_id"] == line_two)
    answers = await omni.client.get("/v1/csat", headers={"Authorization": f"Bearer {key}"})
    assert answers.status_code == 200 and answers.json()["items"] == []
