"""Call reports that could not reach the database, kept on local disk until they can.

The LiveKit worker is the only source of its calls' end-of-call reports: no platform will send
them again. If the database is away when a call ends, the report is written here (one JSON file
per report, written to a temporary name and renamed, so a crash never leaves half a file) and
replayed through the shared ingestion path once the database answers. Replaying is safe to
repeat: the merge is idempotent, so two processes replaying the same file store it once.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from pathlib import Path

from pydantic import ValidationError

from switchboard.db import Database
from switchboard.spec import CallEvent

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ReportSpool:
    def __init__(self, directory: Path):
        self.directory = directory

    def save(self, event: CallEvent) -> Path:
        """Keep `event` on disk; returns its file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{_UNSAFE.sub('_', event.event_id)[:80]}.json"
        path = self.directory / name
        tmp = self.directory / f".{name}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(event.model_dump_json())
        os.replace(tmp, path)
        return path

    def pending(self) -> list[Path]:
        """Spooled reports, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    async def replay(self, db: Database) -> int:
        """Store every spooled report, removing each once its transaction has committed; returns
        how many were stored. Stops at the first failure to reach the database (the rest wait
        for the next replay); a file that is not a report is set aside as `.bad`."""
        from switchboard.billing import load_price_book
        from switchboard.ingest import record_call_event

        stored = 0
        for path in self.pending():
            try:
                event = CallEvent.model_validate_json(path.read_bytes())
            except FileNotFoundError:
                continue  # another process replayed it
            except ValidationError as exc:
                log.error("spooled report %s is unreadable, set aside: %s", path.name, exc)
                path.rename(path.with_suffix(".bad"))
                continue
            async with db.as_service() as conn:
                prices = await load_price_book(conn)
                await record_call_event(conn, event, prices)
            path.unlink(missing_ok=True)
            stored += 1
        if stored:
            log.info("%d spooled call report(s) stored", stored)
        return stored
