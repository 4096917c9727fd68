"""The always-available LLM: a small rule-based responder (no key, no network, no weights).

It reads the same chat context a real model gets and answers by rules, in this order:
1. right after a tool ran, it reports the tool's result (or error);
2. at the start of a call (no user turn yet), it greets with the agent's begin message;
3. when the caller's words match a tool — goodbye words for `end_call`, asking for a person for
   a transfer, shared keywords with an HTTP tool's name and description — it calls the tool with
   arguments read from the utterance (or asks for a required one it cannot find);
4. otherwise it answers with the sentence of the agent's instructions that shares the most
   words with the question; a bare greeting gets a greeting; anything else gets `fallback_reply`.
Usage is reported in estimated tokens so the call's usage lines are complete (it costs 0).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from livekit.agents import llm, utils
from livekit.agents.llm import ChatChunk, ChoiceDelta, CompletionUsage, FunctionToolCall
from livekit.agents.types import NotGivenOr

from agent_worker.chat_llm import ChatLLM

DEFAULT_FALLBACK_REPLY = "Sorry, I am having trouble right now. Could you say that again?"
DEFAULT_GREETING = "Hello! How can I help you today?"

_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORDS = frozenset(
    """a an the and or but if then so to of in on at by for with from about as is are was were be been
    being am do does did have has had i you he she it we they me my your our their this that these those
    what which who whom when where why how can could would should will shall may might must please
    there here not no yes just also very really like want need know tell let get give some any all
    hi hello hey thanks thank okay ok well um uh""".split()
)
_GOODBYE = ("bye", "goodbye", "good bye", "hang up", "that's all", "that is all", "end the call", "nothing else")
_TRANSFER = ("human", "person", "someone", "representative", "operator", "transfer", "real agent", "talk to a", "speak to a", "speak with", "talk with")
_GREETING = frozenset({"hi", "hello", "hey", "good morning", "good afternoon", "good evening"})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "tomorrow")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if w not in _STOPWORDS and len(w) > 1}


# Question words carry the topic a caller asks about ("where are you?" → the address).
_CUES: dict[str, frozenset[str]] = {
    "where": frozenset({"address", "street", "road", "avenue", "located", "location", "find", "at", "near"}),
    "when": frozenset({"hour", "open", "opening", "close", "am", "pm", "monday", "tuesday", "wednesday", "thursday",
                       "friday", "saturday", "sunday", "weekday", "weekend", "daily"}),
    "much": frozenset({"price", "cost", "fee", "charge", "free", "dollar"}),
}


def _cue_words(text: str) -> set[str]:
    words = set(_words(text))
    return {_stem(w) for cue, topic in _CUES.items() if cue in words for w in topic}


def _sentence_words(text: str) -> set[str]:
    # A sentence keeps its small topic words ("at 12 High Street") so question cues can match them.
    return _content(text) | {_stem(w) for w in _words(text) if w in {"at", "am", "pm", "near"}}


def _has_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {' '.join(_words(text))} "
    return any(f" {p} " in padded for p in phrases)


@dataclass
class ToolInfo:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class Decision:
    text: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None


def tool_infos(tools: list[llm.Tool]) -> list[ToolInfo]:
    schemas = llm.ToolContext(tools).parse_function_tools("openai", strict=False)
    out = []
    for schema in schemas:
        fn = schema.get("function", schema)
        out.append(ToolInfo(fn["name"], fn.get("description") or "", fn.get("parameters") or {}))
    return out


def _summarise_output(output: str, limit: int = 240) -> str:
    text = output.strip()
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        data = None
    if isinstance(data, dict):
        for key in ("message", "result", "answer", "text", "status"):
            if isinstance(data.get(key), str):
                return data[key][:limit]
        text = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in data.items() if not isinstance(v, (dict, list)))
    return text[:limit] or "done"


def _extract_arguments(parameters: dict[str, Any], utterance: str) -> tuple[dict[str, Any], list[str]]:
    """Arguments for a JSON-schema'd tool from the caller's words; returns (arguments, missing required)."""
    props: dict[str, Any] = parameters.get("properties") or {}
    required = list(parameters.get("required") or [])
    lowered = utterance.lower()
    numbers = re.findall(r"-?\d+(?:\.\d+)?", utterance)
    args: dict[str, Any] = {}
    string_props = [p for p, s in props.items() if s.get("type") == "string" and "enum" not in s]
    for name, schema in props.items():
        kind = schema.get("type")
        label = name.replace("_", " ")
        if "enum" in schema:
            for option in schema["enum"]:
                if str(option).lower() in lowered:
                    args[name] = option
                    break
        elif kind in ("integer", "number") and numbers:
            value = numbers.pop(0)
            args[name] = int(float(value)) if kind == "integer" else float(value)
        elif kind == "boolean":
            if re.search(r"\b(yes|yeah|sure|true)\b", lowered):
                args[name] = True
            elif re.search(r"\b(no|nope|false)\b", lowered):
                args[name] = False
        elif kind == "string":
            labelled = re.search(rf"\b{re.escape(label)}\s*(?:is|:|=|of)?\s+([^,.;?!]+)", utterance, re.IGNORECASE)
            if labelled:
                args[name] = labelled.group(1).strip()
            elif schema.get("format") == "date" or "date" in name or "day" in name:
                found = re.search(r"\d{4}-\d{2}-\d{2}", utterance) or re.search(rf"\b({'|'.join(_WEEKDAYS)})\b", lowered)
                if found:
                    args[name] = found.group(0)
            elif len(string_props) == 1:
                args[name] = utterance.strip()
    missing = [r for r in required if r not in args]
    return args, missing


def decide(
    chat_ctx: llm.ChatContext,
    tools: list[ToolInfo],
    *,
    begin_message: str | None = None,
    fallback_reply: str = DEFAULT_FALLBACK_REPLY,
) -> Decision:
    items = [i for i in chat_ctx.items if i.type in ("message", "function_call", "function_call_output")]
    instructions = " ".join(
        i.text_content or "" for i in items if i.type == "message" and i.role in ("system", "developer")
    )
    last_user = max((n for n, i in enumerate(items) if i.type == "message" and i.role == "user"), default=None)

    # 1. a tool just ran: say what came of it
    if items and items[-1].type == "function_call_output":
        out = items[-1]
        name = out.name or ""
        if out.is_error:
            return Decision(text=f"Sorry, I could not do that: {_summarise_output(out.output)}")
        if name == "end_call":
            return Decision(text="Thank you for calling. Goodbye!")
        if "transfer" in name:
            return Decision(text="I am transferring you now. Please hold.")
        return Decision(text=f"Here is what I found: {_summarise_output(out.output)}")

    # 2. nobody has spoken yet: the greeting
    if last_user is None:
        return Decision(text=begin_message or DEFAULT_GREETING)
    utterance = items[last_user].text_content or ""
    already_called = {i.name for i in items[last_user + 1 :] if i.type == "function_call"}

    # 3. a tool the caller is asking for
    by_name = {t.name: t for t in tools if t.name not in already_called}
    if "end_call" in by_name and _has_phrase(utterance, _GOODBYE):
        return Decision(tool="end_call", arguments={})
    transfer = next((t for n, t in by_name.items() if "transfer" in n), None)
    if transfer and _has_phrase(utterance, _TRANSFER):
        return Decision(tool=transfer.name, arguments={})
    said = _content(utterance)
    best, best_score = None, 0
    for tool in by_name.values():
        if tool.name == "end_call" or tool is transfer:
            continue
        name_words = _content(tool.name.replace("_", " ").replace("-", " "))
        score = 2 * len(said & name_words) + len(said & (_content(tool.description) - name_words))
        if score > best_score:
            best, best_score = tool, score
    if best is not None and best_score >= 2:
        args, missing = _extract_arguments(best.parameters, utterance)
        if missing:
            return Decision(text=f"Sure. Could you tell me the {missing[0].replace('_', ' ')}?")
        return Decision(tool=best.name, arguments=args)

    # 4. an answer from the instructions
    # The caller's own words first; the topic a question word implies ("where" → address) next.
    cues = _cue_words(utterance)
    candidates = [s.strip() for s in _SENTENCE.split(instructions) if s.strip()]
    scored = sorted(
        (
            (len(said & _sentence_words(s)), len(cues & _sentence_words(s)), not s.lower().startswith("you "), -n, s)
            for n, s in enumerate(candidates)
        ),
        reverse=True,
    )
    if scored and (scored[0][0] or scored[0][1]):
        return Decision(text=scored[0][4])
    if set(_words(utterance)) & _GREETING or _has_phrase(utterance, tuple(_GREETING)):
        return Decision(text=begin_message or DEFAULT_GREETING)
    return Decision(text=fallback_reply)


class LocalLLM(ChatLLM):
    def __init__(self, *, begin_message: str | None = None, fallback_reply: str = DEFAULT_FALLBACK_REPLY) -> None:
        super().__init__()
        self._begin_message = begin_message
        self._fallback_reply = fallback_reply or DEFAULT_FALLBACK_REPLY

    @property
    def model(self) -> str:
        return "rules-v1"

    @property
    def provider(self) -> str:
        return "local"

    def _stream(self, *, parallel_tool_calls: Any, extra_kwargs: Any, **options: Any) -> llm.LLMStream:
        return _LocalStream(self, **options)  # one reply by rules: parallel calls and vendor kwargs mean nothing here


class _LocalStream(llm.LLMStream):
    def __init__(self, local: LocalLLM, *, tool_choice: NotGivenOr[llm.ToolChoice], **kwargs: Any) -> None:
        super().__init__(local, **kwargs)
        self._local = local
        self._tool_choice = tool_choice

    async def _run(self) -> None:
        tools = tool_infos(self._tools) if self._tools and self._tool_choice != "none" else []
        decision = decide(
            self._chat_ctx, tools, begin_message=self._local._begin_message, fallback_reply=self._local._fallback_reply
        )
        request_id = utils.shortuuid("local_")
        # ~4 characters a token, as tokenizers average on English (it costs 0 either way)
        prompt_tokens = sum(
            len(c) for i in self._chat_ctx.items if i.type == "message" for c in i.content if isinstance(c, str)
        ) // 4
        if decision.tool is not None:
            self._event_ch.send_nowait(
                ChatChunk(
                    id=request_id,
                    delta=ChoiceDelta(
                        role="assistant",
                        tool_calls=[
                            FunctionToolCall(
                                name=decision.tool,
                                arguments=json.dumps(decision.arguments or {}),
                                call_id=utils.shortuuid("call_"),
                            )
                        ],
                    ),
                )
            )
            completion_tokens = 1
        else:
            words = (decision.text or "").split(" ")
            for n, word in enumerate(words):
                piece = word if n == 0 else " " + word
                self._event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", content=piece)))
            completion_tokens = len(words)
        self._event_ch.send_nowait(
            ChatChunk(
                id=request_id,
                usage=CompletionUsage(
                    completion_tokens=completion_tokens,
                    prompt_tokens=prompt_tokens,
                    total_tokens=prompt_tokens + completion_tokens,
                ),
            )
        )
