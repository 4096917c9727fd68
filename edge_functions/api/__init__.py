"""The management REST API (seed 003's routes, plus agents, calls and usage): a thin FastAPI
router over the core, mounted by the edge-functions server at `/api`. It expects
`app.state.db` to hold an open `switchboard.db.Database`."""

from fastapi import APIRouter

from edge_functions.api import agents, calls, providers
from edge_functions.api.errors import ApiRoute

router = APIRouter(route_class=ApiRoute)
router.include_router(providers.router)
router.include_router(agents.router)
router.include_router(calls.router)

__all__ = ["router"]
