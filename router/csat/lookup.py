"""Reading answers by case: the case view's `csat` and the experiment report's scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Case
from router.models.csat import CsatResponse


async def csat_of(session: AsyncSession, cases: Iterable[Case]) -> dict[int, dict[str, Any]]:
    """case id → `{score, comment}`; only cases ever resolved can have one (so a list of
    open cases costs no query)."""
    ids = sorted(c.id for c in cases if c.status == "resolved" or c.reopen_count)
    if not ids:
        return {}
    rows = await session.execute(select(CsatResponse.case_id, CsatResponse.score,
                                        CsatResponse.comment)
                                 .where(CsatResponse.case_id.in_(ids)))
    return {case_id: {"score": score, "comment": comment} for case_id, score, comment in rows}


class CsatScores:
    """The experiment report's CSAT source: the stored answers."""

    async def scores(self, session: AsyncSession,
                     case_ids: Sequence[int]) -> dict[int, int] | None:
        out: dict[int, int] = {}
        ids = list(case_ids)
        for start in range(0, len(ids), 1000):  # bounded IN lists for big experiments
            rows = await session.execute(select(CsatResponse.case_id, CsatResponse.score)
                                         .where(CsatResponse.case_id.in_(ids[start:start
                                                                               + 1000])))
            out.update({case_id: int(score) for case_id, score in rows})
        return out
