"""The management API's call list at scale: seeds N calls (default 1,000,000) with the demo
seeder into a throwaway Postgres cluster, then times `switchboard.calls` as the demo
organisation's signed-in member (RLS on, through `db.as_user`): the first page, a page
100,000 rows deep (keyset: it costs what the first does), each filter, a search by number, one
call, and a full HTTP round trip through the API router. Prints p50/p95/max per query.

    python bench/bench_api.py [--calls N] [--runs R]
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta, timezone

from _seeded import arguments, measure, seeded, time_as_member  # this directory is on sys.path when run as a script
from _stats import timing_line, verdict

import httpx

from switchboard import calls
from switchboard.db import Database
from switchboard.models import CallFilters

TARGET_P95_MS = 50.0  # a page of the call list, however deep


async def _deep_cursor(db: Database, claims, org, depth: int) -> str:
    """The cursor after `depth` rows, found by walking pages of 200 (as a client would)."""
    cursor = None
    async with db.as_user(claims) as conn:
        for _ in range(depth // 200):
            cursor = (await calls.list_calls(conn, org, limit=200, cursor=cursor)).next_cursor
    assert cursor is not None
    return cursor


async def main(n_calls: int, runs: int) -> int:
    async with seeded(n_calls, seed=11, prefix="sb-bench-api-") as (db, report):
        org, claims = report.demo.organization_id, report.demo.claims
        async with db.as_user(claims) as conn:
            sample = (await calls.list_calls(conn, org, limit=1, cursor=None)).items[0]
        depth = min(100_000, n_calls // 2)
        deep = await _deep_cursor(db, claims, org, depth)
        week_ago = datetime.now(timezone.utc) - timedelta(days=7)
        queries = {
            "first page (50)": lambda c: calls.list_calls(c, org),
            f"page {depth:,} rows deep": lambda c: calls.list_calls(c, org, cursor=deep),
            "provider = vapi": lambda c: calls.list_calls(c, org, CallFilters(provider="vapi")),
            "status = error": lambda c: calls.list_calls(c, org, CallFilters(status="error")),
            "direction = outbound": lambda c: calls.list_calls(c, org, CallFilters(direction="outbound")),
            "experiment arm = B": lambda c: calls.list_calls(c, org, CallFilters(arm="B")),
            "last 7 days": lambda c: calls.list_calls(c, org, CallFilters(started_from=week_ago)),
            "caller's number (exact)": lambda c: calls.list_calls(c, org, CallFilters(number=sample.from_number)),
            "caller's last 4 digits": lambda c: calls.list_calls(c, org, CallFilters(number=sample.from_number[-4:])),
            "one call with its usage": lambda c: calls.get_call(c, org, sample.id),
        }
        worst = await time_as_member(db, claims, queries, runs, what=f", {n_calls:,} calls")
        # The same first page over HTTP through the router (token check, JSON, validation).
        from edge_functions.api.testapp import create_app
        from switchboard.auth import issue_token

        headers = {"Authorization": f"Bearer {issue_token(claims.user_id, claims.email)}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db)), base_url="http://bench") as client:
            async def over_http() -> None:
                assert (await client.get("/api/calls", headers=headers)).status_code == 200

            timing_line("GET /api/calls over the router", await measure(over_http, runs))
        return verdict(worst, TARGET_P95_MS)


if __name__ == "__main__":
    args = arguments(__doc__, runs=50)
    sys.exit(asyncio.run(main(args.calls, args.runs)))
