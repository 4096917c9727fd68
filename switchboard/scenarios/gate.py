"""The organisation's test settings: whether publishing needs the scenarios to pass (the gate
itself is `switchboard.versions.gate`) and how many conversations a run holds at once."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from switchboard.errors import FieldError, Forbidden, InvalidInput, NotFound


class ScenarioSettings(BaseModel):
    require_scenarios_to_publish: bool = Field(description="publish only versions whose scenarios passed on the agent's platforms")
    scenario_concurrency: int = Field(ge=1, le=20, description="conversations a run holds at once")
    llm: str | None = Field(None, max_length=100, description=(
        "the catalogue LLM that judges rubric checks and plays simulated callers, with the organisation's key for its "
        "vendor: openai-llm, groq-llm, openrouter-llm or azure-openai-llm; null: none (those are not run)"))
    llm_model: str | None = Field(None, min_length=1, max_length=200,
                                  description="its model (Azure: the deployment's); null: the entry's default")


_COLUMNS = ("require_scenarios_to_publish, scenario_concurrency, scenario_llm as llm, scenario_llm_model as llm_model")


async def read_settings(conn: AsyncConnection, organization_id: UUID) -> ScenarioSettings:
    row = await (await conn.execute(f"select {_COLUMNS} from public.organizations where id = %s",
                                    (organization_id,))).fetchone()
    if row is None:
        raise NotFound("organisation not found")
    return ScenarioSettings.model_validate(row)


async def write_settings(conn: AsyncConnection, organization_id: UUID, wanted: ScenarioSettings) -> ScenarioSettings:
    from switchboard.scenarios.llm import COMPATIBLE

    if wanted.llm is not None and wanted.llm not in COMPATIBLE:
        raise InvalidInput(FieldError("llm", f"must be one of {', '.join(COMPATIBLE)} (LLMs that speak the "
                                             "chat-completions protocol), or null"))
    row = await (await conn.execute(
        "update public.organizations set require_scenarios_to_publish = %s, scenario_concurrency = %s, scenario_llm = %s, "
        f"scenario_llm_model = %s where id = %s returning {_COLUMNS}",
        (wanted.require_scenarios_to_publish, wanted.scenario_concurrency, wanted.llm, wanted.llm_model,
         organization_id))).fetchone()
    if row is None:
        raise Forbidden("only admins and owners may change the organisation's test settings")
    return ScenarioSettings.model_validate(row)
