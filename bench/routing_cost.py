"""Inbound pipeline cost of case routing, in-process and small (the full run is bench/run.py).

`python bench/routing_cost.py <migrated store url> <label> [rules]`, from a checkout whose
code is measured (run it from an older checkout for "before"). With `rules`: 3 teams of 20
agents, 5 rules through the rules engine, a default team on the channel.
Prints events per CPU second of this process (the shared box moves wall time too much).

Stores raw API-channel events directly (as the webhook would), then times the inbound worker
draining them: phase 1 first messages (new customers, general path), phase 2 four more each
(known senders, the batched path; one in five of those customers was resolved first, so
their next message opens a new case in the batch). With `SLA=1` (and `rules`) a default
SLA policy (first response, resolution, a warning) is in force: each new case arms timers."""

import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time

from sqlalchemy import update

from router.app import create_app
from router.ingest.worker import Pace, process_batch
from router.settings import Settings

URL, LABEL = sys.argv[1], sys.argv[2]
WITH_ROUTING = len(sys.argv) > 3
CUSTOMERS = 600


def callgrind(*args: str) -> None:
    # Under `valgrind --tool=callgrind --instr-atstart=no` (CALLGRIND=1): count instructions
    # of the drains only, one dump each; a count is the same from run to run, CPU time on a
    # shared box is not.
    if os.environ.get("CALLGRIND") == "1":
        subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True,
                       capture_output=True)


async def drain(core, phase: str) -> tuple[int, float]:
    """Process every stored event; PROFILE=first|known prints where that phase's time went
    (PROFILE_SORT, PROFILE_FILTER: pstats' sort key and file filter)."""
    pace, total = Pace(), 0
    prof = cProfile.Profile() if os.environ.get("PROFILE") == phase else None
    if phase:
        callgrind("-i", "on")
    if prof is not None:
        prof.enable()
    # CPU seconds of this process: the shared box's load moves wall time too much.
    started = time.process_time()
    while handled := await process_batch(core, pace):
        total += handled
    spent = time.process_time() - started
    if prof is not None:
        prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            os.environ.get("PROFILE_FILTER", ""), int(os.environ.get("PROFILE_LINES", "40")))
    if phase:
        callgrind("-i", "off")
        callgrind("-d")
    return total, spent


async def main() -> None:
    # Batches of a fixed size: the worker sizes them by the wall time an event took, so on a
    # shared box the same code would otherwise do its work in batches of another size each
    # run (and pay a batch's fixed statements a different number of times).
    settings = Settings(database_url=URL, secret_key="bench-secret-key-0123456789abcdef",
                        run_workers=False, reopen_window_seconds=0,
                        ingest_batch_size=int(os.environ.get("BATCH", "50")),
                        ingest_batch_seconds=60)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        core = app.state.core
        config = {}
        if WITH_ROUTING:
            from router.models import Agent, Team, TeamMember
            from router.rules.schemas import RuleIn
            from router.rules.service import create_rule

            async with core.unit() as session:
                ts = [Team(name=f"team {i}", strategy=("round_robin", "least_loaded",
                                                        "round_robin")[i], settings={})
                      for i in range(3)]
                session.add_all(ts)
                await session.flush()
                for i in range(60):
                    agent = Agent(name=f"a{i}", email=f"a{i}@x.test", presence="online",
                                  capacity={"default": 5}, skills=[])
                    session.add(agent)
                    await session.flush()
                    session.add(TeamMember(team_id=ts[i // 20].id, agent_id=agent.id))
                teams = [t.id for t in ts]
                # Five real rules of the kind support leads write, through the rules engine
                # (every message runs all five); the fourth takes the customers whose order
                # number starts with 7, the channel's default team the rest.
                for n, word in enumerate(("refund", "crash", "invoice", "order 7", "cancel")):
                    await create_rule(core, session, RuleIn.model_validate({
                        "name": f"rule {n}",
                        "when": {"all": [
                            {"field": "channel.type", "op": "in", "value": ["api", "email"]},
                            {"field": "customer.tags", "op": "contains_any",
                             "value": ["b2b", f"vip{n}"]} if n == 0 else
                            {"field": "message.text", "op": "matches",
                             "value": rf"\b{word}\w*"} if n == 2 else
                            {"field": "message.text", "op": "contains_any",
                             "value": [word, word.upper()]}]},
                        "then": [{"action": "set_team", "value": teams[n % 3]},
                                 {"action": "add_tags", "value": [word.replace(" ", "-")]}]}))
            config = {"default_team_id": teams[1]}
            if os.environ.get("SLA") == "1":
                # A default SLA policy: every new case starts its clock and arms timers.
                from router.models.sla import SlaPolicy
                async with core.unit() as session:
                    session.add(SlaPolicy(name="bench", is_default=True, warn_before_seconds=600,
                                          on_breach=[], targets=[
                                              {"first_response_seconds": 3600,
                                               "resolution_seconds": 86400}]))
        from router.channels import service
        async with core.unit() as session:
            row, _generated = await service.create(core, session, "api", "bench", config)
            channel_id = row.id
        channel = await core.gateway.channel(channel_id, "api")

        async def store(user: int, n: int) -> None:
            text = f"message {n} about order {user}"
            body = {"external_user_id": f"u{user}", "external_message_id": f"m{user}-{n}",
                    "text": text}
            await core.gateway.accept(channel, f"e{user}-{n}", json.dumps(body).encode(),
                                      "application/json")

        async def run(users: range, measure: bool) -> tuple[int, float, int, float]:
            for user in users:
                await store(user, 0)
            first, first_s = await drain(core, "first" if measure else "")
            if WITH_ROUTING and os.environ.get("RESOLVE", "1") == "1":
                from router.models import Case
                async with core.unit() as session:
                    await session.execute(update(Case).where(
                        Case.id % 5 == 0, Case.status == "open").values(
                        status="resolved", resolved_at=Case.opened_at))
            for n in range(1, 5):
                for user in users:
                    await store(user, n)
            known, known_s = await drain(core, "known" if measure else "")
            return first, first_s, known, known_s

        # A warm-up round first (not counted): statements compiled and mappers configured
        # once per process are not what each event costs.
        await run(range(CUSTOMERS, CUSTOMERS + 100), False)
        first, first_s, known, known_s = await run(range(CUSTOMERS), True)
        print(json.dumps({"label": LABEL, "new_senders_per_s": round(first / first_s),
                          "known_senders_per_s": round(known / known_s),
                          "events": first + known}))


asyncio.run(main())
