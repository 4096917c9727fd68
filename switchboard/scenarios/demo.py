"""The demo agent's suite (`switchboard seed --demo` writes it): five scripted scenarios that the
front desk passes on every platform with a capable model — and on the LiveKit platform's offline
tier, with no key at all. Deterministic checks only."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection

from switchboard.scenarios.model import Scenario, suite_from_yaml
from switchboard.scenarios.store import save_suite

DEMO_SUITE_YAML = """
scenarios:
  - name: Greets the caller
    description: A hello gets a greeting that offers help, quickly.
    turns:
      - say: Hello
        expect:
          - matches: "(?i)how can i help"
          - not_contains: sorry
          - latency_under_ms: 5000
  - name: Checks availability before offering a time
    turns:
      - say: Is there a free appointment slot on 2026-12-10?
        expect:
          - tool: {name: check_availability, arguments: {date: "2026-12-10"}}
          - not_contains: you are booked
    checks:
      - transferred: false
  - name: Asks for what it needs to book
    turns:
      - say: I would like to book a cleaning
        expect:
          - matches: "(?i)(could|can|may) you|what|which|when"
          - not_contains: you are booked
    checks:
      - ended: false
  - name: Hands over to a person on request
    turns:
      - say: Can I speak to a person?
        expect:
          - tool: {name: transfer_to_front_desk}
    checks:
      - transferred: true
  - name: Says goodbye and hangs up
    turns:
      - say: Thanks, bye
        expect:
          - contains: goodbye
          - tool: {name: end_call}
    checks:
      - ended: true
"""


def demo_suite() -> list[Scenario]:
    return suite_from_yaml(DEMO_SUITE_YAML)


async def seed_demo_scenarios(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> None:
    await save_suite(conn, organization_id, agent_id, demo_suite())
