"""`python -m agent_worker start|dev|console` — livekit-agents' own command line over our server.

`start` and `dev` connect to LIVEKIT_URL with LIVEKIT_API_KEY / LIVEKIT_API_SECRET; `console`
talks to the agent from this terminal (no LiveKit server), as the organisation and agent named by
SWITCHBOARD_CONSOLE_METADATA (`{"organization_id": …, "agent_config_id": …}`). `chat` serves text
conversations with the agent at LIVEKIT_CHAT_URL (no LiveKit server needed; see agent_worker.chat)."""

from __future__ import annotations

import os
import sys
import warnings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "chat":
        from urllib.parse import urlsplit

        from agent_worker.chat import serve
        from switchboard.settings import get_settings

        where = urlsplit(get_settings().livekit_chat_url)
        serve(where.hostname or "127.0.0.1", where.port or 80)
        return
    if command in ("start", "dev") and not (os.environ.get("LIVEKIT_URL") or "--url" in sys.argv):
        sys.stderr.write(
            "agent_worker: LIVEKIT_URL is not set. Point it at your LiveKit server (with LIVEKIT_API_KEY and "
            "LIVEKIT_API_SECRET), or run `python -m agent_worker console` to talk to the agent locally.\n"
        )
        raise SystemExit(2)
    from livekit.agents import cli

    from agent_worker.server import server

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the built-in CLI is marked deprecated upstream
        cli.run_app(server)


if __name__ == "__main__":
    main()
