"""The API as the edge-functions server serves it: mounted at /api, on the server's own
database pool (its runtime), in the server's OpenAPI document."""

from __future__ import annotations

import httpx

from edge_functions.app import create_app
from tests.api.conftest import World


async def test_the_edge_server_serves_the_api(db_url: str, world: World) -> None:
    app = create_app(database_url=db_url, background_loops=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test") as client:
            r = await client.get(f"/api/agents/{world.agent_a}", headers=world.owner_a.headers())
            assert r.status_code == 200 and r.json()["name"] == "Alpha receptionist" and r.headers["ETag"]
            assert (await client.get(f"/api/agents/{world.agent_a}", headers=world.owner_b.headers())).status_code == 404
            document = (await client.get("/openapi.json")).json()
            assert "/api/organizations/current/providers/{key}/config" in document["paths"]
            assert "bearer" in document["components"]["securitySchemes"]
            metrics = (await client.get("/metrics")).text
            assert 'function="api"' in metrics
