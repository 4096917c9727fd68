"""Reflex configuration for the admin app (`app/`).

`reflex run --env prod` serves the built front end and the event back end on ONE port
(Reflex 0.10 requires that in prod): APP_PORT (3000). In dev (`reflex run`) the Vite server is on
APP_PORT and the back end on APP_BACKEND_PORT (8000). Ports come from switchboard's settings so
there is one place to set them.
"""

import os
from pathlib import Path

# Nothing may be fetched from outside the package registries: no telemetry, no version check,
# and the npm registry given outright (otherwise Reflex times a mirror to pick one).
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")

import reflex as rx  # noqa: E402

from switchboard.settings import get_settings  # noqa: E402

_ROOT = Path(__file__).resolve().parent
_settings = get_settings()
# bun comes from the npm registry (npm package `bun`), never from Reflex's installer.
_bun = _ROOT / "node_modules" / ".bin" / "bun"

config = rx.Config(
    app_name="app",
    frontend_port=_settings.app_port,
    backend_port=_settings.app_backend_port,
    backend_host=os.environ.get("APP_HOST", "127.0.0.1"),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    **({"bun_path": _bun} if _bun.exists() else {}),
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
