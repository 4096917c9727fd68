"""Scenarios (issue #16): an agent's test conversations — scripted caller turns and checks —
stored per agent, imported from / exported to YAML, run on one platform or all of them for a
version, and summed up in a scorecard per platform and version.

    suite = suite_from_yaml(text)                         # model
    await store.save_suite(conn, org, agent_id, suite)    # store
    run_id, results = await runner.run_suite(db, claims, org, agent_id, platforms, platform="livekit")
    card = await scorecard.for_run(conn, org, run_id)     # scorecard
"""

from switchboard.scenarios.checks import CheckResult, evaluate
from switchboard.scenarios.model import Check, Scenario, ScriptedTurn, suite_from_yaml, suite_to_yaml
from switchboard.scenarios.runner import ALL, PairResult, create_run, execute_run, run_suite

__all__ = ["ALL", "Check", "CheckResult", "PairResult", "Scenario", "ScriptedTurn", "create_run", "evaluate",
           "execute_run", "run_suite", "suite_from_yaml", "suite_to_yaml"]
