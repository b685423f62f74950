"""Inbound pipeline cost of case routing, in-process and small (the full run is bench/run.py).

`python bench/routing_cost.py <migrated store url> <label> [rules]`, from a checkout whose
code is measured (run it from an older checkout for "before"). With `rules`: 3 teams of 20
agents, 5 fake rules (the rules engine is branch rules'), a default team on the channel.
Prints events per CPU second of this process (the shared box moves wall time too much).

Stores raw API-channel events directly (as the webhook would), then times the inbound worker
draining them: phase 1 first messages (new customers, general path), phase 2 four more each
(known senders, the batched path; one in five of those customers was resolved first, so
their next message opens a new case in the batch). With `SLA=1` (and `rules`) a default
SLA policy (first response, resolution, a warning) is in force: each new case arms timers."""

import asyncio
import json
import os
import sys
import time

from sqlalchemy import update

from router.app import create_app
from router.ingest.worker import Pace, process_batch
from router.settings import Settings

URL, LABEL = sys.argv[1], sys.argv[2]
WITH_ROUTING = len(sys.argv) > 3
CUSTOMERS = 600


async def drain(core) -> tuple[int, float]:
    pace, total = Pace(), 0
    # CPU seconds of this process: the shared box's load moves wall time too much.
    started = time.process_time()
    while handled := await process_batch(core, pace):
        total += handled
    return total, time.process_time() - started


async def main() -> None:
    settings = Settings(database_url=URL, secret_key="bench-secret-key-0123456789abcdef",
                        run_workers=False, reopen_window_seconds=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        core = app.state.core
        config = {}
        if WITH_ROUTING:
            import router.cases.book
            from router.models import Agent, Team, TeamMember
            from router.rules.engine import RuleAction, RuleMatch

            class FiveRules:
                def evaluate(self, ctx):
                    # Five rules, each a few conditions, none matching the bench traffic
                    # except the fourth for one customer in ten: the default team gets most.
                    for n, word in enumerate(("refund", "crash", "invoice", "order 7", "cancel")):
                        if ctx.customer_tier == "vip" and word in ctx.message_text:
                            return RuleMatch(n + 1, (RuleAction("set_team", teams[0]),))
                        if word in ctx.message_text.lower() and ctx.channel_type == "api":
                            return RuleMatch(n + 1, (RuleAction("set_team", teams[n % 3]),
                                                     RuleAction("add_tags", [word])))
                    return RuleMatch(None, ())

            async def load_rules(session):
                return FiveRules()

            router.cases.book.load_rules = load_rules
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

        for user in range(CUSTOMERS):
            await store(user, 0)
        first, first_s = await drain(core)
        if WITH_ROUTING and os.environ.get("RESOLVE", "1") == "1":
            from router.models import Case
            async with core.unit() as session:
                await session.execute(update(Case).where(Case.id % 5 == 0).values(
                    status="resolved", resolved_at=Case.opened_at))
        for n in range(1, 5):
            for user in range(CUSTOMERS):
                await store(user, n)

        if os.environ.get("PROFILE"):
            import cProfile
            import pstats
            prof = cProfile.Profile()
            prof.enable()
            known, known_s = await drain(core)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        else:
            known, known_s = await drain(core)
        print(json.dumps({"label": LABEL, "new_senders_per_s": round(first / first_s),
                          "known_senders_per_s": round(known / known_s),
                          "events": first + known}))


asyncio.run(main())
