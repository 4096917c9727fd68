"""The LLM an organisation lets its tests use: it judges `rubric` checks and plays simulated
callers (a persona and a goal → the caller's next message).

Invariants:
- the organisation chooses one catalogue LLM entry that speaks OpenAI's chat-completions
  protocol (`COMPATIBLE`) and a model (`organizations.scenario_llm`, `scenario_llm_model`); it is
  called with the organisation's stored key for that vendor (else the operator's, to the
  operator's URL only) and its base URL / endpoint from its settings of that entry;
- every request goes through the egress policy (`egress.client`: checked, pinned addresses, no
  redirects), with no retries and the entry's attempt timeout;
- a failure is `ScenarioLLMFailed` in our words (the vendor, the HTTP status, the timeout):
  nothing of the remote body reaches the tenant; a check it could not judge is "not judged";
- nothing here decides a deterministic check.
"""

from __future__ import annotations

import json
import re
from typing import Any
from uuid import UUID

from switchboard import egress
from switchboard.db import Database
from switchboard.errors import Upstream
from switchboard.pipeline.config import VendorSettings, resolve_vendor
from switchboard.pipeline.vendors.groq import GROQ_URL
from switchboard.pipeline.vendors.openrouter import OPENROUTER_URL
from switchboard.scenarios.model import SimulatedCaller

# Catalogue entries spoken to with the chat-completions protocol → their default base URL
# (None: the openai SDK's own; Azure is addressed by endpoint and deployment).
COMPATIBLE: dict[str, str | None] = {"openai-llm": None, "groq-llm": GROQ_URL, "openrouter-llm": OPENROUTER_URL,
                                     "azure-openai-llm": None}
GOAL_MET = "GOAL_MET"
REASON_LIMIT = 500

_JUDGE = ("You judge a text conversation between a caller and a business's voice agent against a rubric. "
          "Answer with one JSON object and nothing else: "
          '{"passed": true or false, "reason": "one short sentence saying why"}.')
_CALLER = ("You play a caller talking to a business's voice agent, in a test of that agent.\n"
           "Who you are: {persona}\nYour goal: {goal}\n"
           "Write only your next message to the agent, one or two short sentences, as that caller would say it. "
           f"When your goal has been met, answer with exactly {GOAL_MET} instead.")
_ENDED = f"(The agent has ended the conversation. Answer {GOAL_MET} if your goal was met, otherwise say what is missing.)"


class ScenarioLLMFailed(Upstream):
    """The organisation's LLM did not give an answer; the message says why in our words."""


class ScenarioLLM:
    """One organisation's test LLM (an httpx client under the egress policy): `judge`,
    `caller_turn`; `aclose` when done."""

    def __init__(self, vendor: VendorSettings, model: str | None) -> None:
        import openai  # the SDK livekit-plugins-openai depends on; loaded only where tests use an LLM

        self.vendor, self.name = vendor, vendor.name
        config = vendor.config
        self.model = model or config.get("model") or "gpt-4o-mini"
        self.timeout = vendor.attempt_timeout
        self._http = egress.client(timeout_seconds=self.timeout, what="base_url")
        self._openai, self._client, self.problem = openai, None, None  # problem: why it cannot be asked, in words
        common: dict[str, Any] = {"api_key": str(config.get("api_key") or "none"), "max_retries": 0,
                                  "timeout": self.timeout, "http_client": self._http}
        try:
            if not config.get("api_key"):
                raise ScenarioLLMFailed(f"no {vendor.vendor} API key is stored for this organisation")
            if vendor.key == "azure-openai-llm":
                endpoint, deployment = config.get("endpoint"), config.get("deployment")
                if not endpoint or not deployment:
                    raise ScenarioLLMFailed("Azure OpenAI needs the resource endpoint and the deployment name")
                self.model = deployment
                self._client = openai.AsyncAzureOpenAI(azure_endpoint=egress.check_url(str(endpoint), what="endpoint"),
                                                       azure_deployment=deployment,
                                                       api_version=config.get("api_version") or "2024-10-21", **common)
            else:
                base_url = config.get("base_url") or COMPATIBLE.get(vendor.key)
                self._client = openai.AsyncOpenAI(
                    base_url=egress.check_url(str(base_url), what="base_url") if base_url else None, **common)
        except (ScenarioLLMFailed, egress.EgressRefused) as exc:
            self.problem = str(exc)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self._http.aclose()

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float) -> str:
        """The model's answer to `messages` (its text), or ScenarioLLMFailed in words."""
        openai = self._openai
        if self._client is None:
            raise ScenarioLLMFailed(self.problem or f"{self.name} cannot be used")
        try:
            answer = await self._client.chat.completions.create(model=self.model, messages=messages,  # type: ignore[arg-type]
                                                                 max_tokens=max_tokens, temperature=temperature)
        except openai.APITimeoutError:
            raise ScenarioLLMFailed(f"{self.name} did not answer within {self.timeout:g} s") from None
        except openai.APIStatusError as exc:
            what = "refused the key" if exc.status_code in (401, 403) else "answered with an error"
            raise ScenarioLLMFailed(f"{self.name} {what} (HTTP {exc.status_code})") from None
        except openai.APIConnectionError as exc:
            refused = egress.refusal_in(exc)
            raise ScenarioLLMFailed(str(refused) if refused else f"{self.name} could not be reached") from None
        except openai.OpenAIError:
            raise ScenarioLLMFailed(f"{self.name} gave an answer that could not be read") from None
        text = (answer.choices[0].message.content or "").strip() if answer.choices else ""
        if not text:
            raise ScenarioLLMFailed(f"{self.name} answered with no text")
        return text

    async def judge(self, rubric: str, transcript: str) -> tuple[bool, str]:
        """Whether the conversation meets the rubric, and the judge's reason."""
        text = await self.complete([{"role": "system", "content": _JUDGE},
                                    {"role": "user", "content": f"Rubric:\n{rubric}\n\nConversation:\n{transcript}"}],
                                   max_tokens=300, temperature=0)
        verdict = _verdict(text)
        if verdict is None:
            raise ScenarioLLMFailed(f"{self.name}'s answer was not a verdict (passed true or false, and a reason)")
        return verdict

    async def caller_turn(self, caller: SimulatedCaller, history: list[tuple[str, str]], *, ended: bool = False
                          ) -> str | None:
        """The simulated caller's next message, or None when it says its goal is met. `history`:
        (who, text) with who "agent" or "caller"; the agent's lines are the model's "user"."""
        messages = [{"role": "system", "content": _CALLER.format(persona=caller.persona, goal=caller.goal)}]
        messages += [{"role": "user" if who == "agent" else "assistant", "content": text} for who, text in history if text]
        if ended:
            messages.append({"role": "user", "content": _ENDED})
        if len(messages) == 1:  # the agent does not speak first: the caller opens
            messages.append({"role": "user", "content": "(The agent has answered and is listening.)"})
        text = await self.complete(messages, max_tokens=200, temperature=float(self.vendor.config.get("temperature") or 0.7))
        return None if text.strip().strip(".").upper() == GOAL_MET else text


def _verdict(text: str) -> tuple[bool, str] | None:
    """{"passed": bool, "reason": str} from the judge's answer (a fenced block or prose around it allowed)."""
    found = re.search(r"\{.*\}", text, re.S)
    try:
        data = json.loads(found.group(0)) if found else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("passed"), bool):
        return None
    reason = " ".join(str(data.get("reason") or "no reason given").split())
    return data["passed"], reason[:REASON_LIMIT]


async def for_organization(db: Database, organization_id: UUID) -> ScenarioLLM | None:
    """The organisation's test LLM, or None when it configured none (or its entry is gone).
    Reads the organisation's key: call only for a member's run (the run was read as them)."""
    async with db.as_service() as conn:
        row = await (await conn.execute("select scenario_llm, scenario_llm_model from public.organizations where id = %s",
                                        (organization_id,))).fetchone()
        if row is None or row["scenario_llm"] not in COMPATIBLE:
            return None
        vendor = await resolve_vendor(conn, organization_id, row["scenario_llm"])
    if vendor is None:
        return None
    return ScenarioLLM(vendor, row["scenario_llm_model"])
