"""`llm.LLM.chat`'s signature, written once for the worker's own LLMs (the bounded wrapper, the
local responder): each says only how it opens its stream from those arguments."""

from __future__ import annotations

from typing import Any

from livekit.agents import APIConnectOptions, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr


class ChatLLM(llm.LLM):
    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return self._stream(chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options,
                            parallel_tool_calls=parallel_tool_calls, tool_choice=tool_choice, extra_kwargs=extra_kwargs)

    def _stream(self, **options: Any) -> llm.LLMStream:
        """The stream for `chat`'s arguments (tools already a list)."""
        raise NotImplementedError
