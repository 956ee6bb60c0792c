"""Generated answers from an OpenAI-compatible chat model, grounded in retrieved passages, with honest citations."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from typing import Any

import httpx

from bot.answering.citations import as_data, citations_for, number_passages, validate
from bot.answering.followup import Turn, clean_condensed, condense_prompt, is_followup, rule_rewrite
from bot.answering.types import Answer, Passage
from bot.answering.usage import UsageLog
from bot.prompts import render
from bot.settings import Settings
from bot.textnorm import in_script_of, is_traditional

log = logging.getLogger(__name__)

# A channel that wants to show the answer while it is generated sets this around a (sync) answer() call;
# it receives the growing text from whatever thread or loop generates it. Unset: nothing is streamed.
PARTIAL_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("lvzhi_partial_sink", default=None)


def _run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from sync code, also when an event loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def grounded_messages(question: str, passages: list[Passage], max_chars: int) -> list[tuple[str, str]]:
    """System rules and user data of the grounded prompt (passages and question delimited as data)."""
    rendered = render(
        "grounded_answer",
        count=len(passages),
        max_chars=max_chars,
        passages=number_passages(passages),
        question=as_data(question.strip()),
    )
    rules, sep, data = rendered.partition("\n<passages>")
    return [("system", rules.strip()), ("human", (sep + data).strip())]


class LLMAnswerer:
    """Answers with a chat model; falls back to the extractive answerer on error, timeout or no valid citation."""

    def __init__(
        self,
        knowledge: Any,
        settings: Settings,
        fallback: Any,
        *,
        http_async_client: Any = None,
        extra_body: dict | None = None,
        condense_extra_body: dict | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.settings = settings
        self.fallback = fallback
        self.usage = UsageLog(settings.data_dir)
        self._http_async_client = http_async_client
        self._extra_body = extra_body
        self._condense_extra_body = condense_extra_body

    def _model(self, extra_body: dict | None, max_tokens: int, client: Any) -> Any:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=self.settings.llm_model,
            base_url=self.settings.llm_base_url,
            api_key=self.settings.llm_api_key or "not-needed",
            temperature=0,
            timeout=self.settings.llm_timeout_s,
            max_retries=0,
            stream_usage=True,
            http_async_client=client,
            # "max_tokens" in the body: every OpenAI-compatible server knows it, not all know max_completion_tokens.
            extra_body={"max_tokens": max_tokens, **(extra_body or {})},
        )

    # --- follow-up questions
    async def condense(self, question: str, history: list[Turn], client: Any = None) -> tuple[str, str]:
        """Standalone question and how it was made ("none", "llm", "rules")."""
        if not history or not is_followup(question):
            return question, "none"
        own = client is None and self._http_async_client is None
        client = client or self._http_async_client or httpx.AsyncClient(timeout=self.settings.llm_timeout_s)
        try:
            model = self._model(self._condense_extra_body, 128, client)
            msg = await model.ainvoke([("human", condense_prompt(question, history))])
            condensed = clean_condensed(str(msg.content), question)
            if condensed:
                return condensed, "llm"
        except Exception as exc:  # noqa: BLE001 - any model failure degrades to the rules
            log.warning("condense failed, using rules: %s", exc)
        finally:
            if own:
                await client.aclose()
        return rule_rewrite(question, history), "rules"

    # --- answering
    def answer(self, question: str, history: list[Turn] | None = None) -> Answer:
        """The answer (sync entry point, as the extractive answerer offers)."""
        return _run_sync(self.aanswer(question, history))

    async def aanswer(self, question: str, history: list[Turn] | None = None) -> Answer:
        """The answer, without streaming."""
        final: Answer | None = None
        sink = PARTIAL_SINK.get()
        async for item in self.stream(question, history):
            if isinstance(item, Answer):
                final = item
            elif sink is not None:
                sink(item)
        assert final is not None
        return final

    async def stream(self, question: str, history: list[Turn] | None = None) -> AsyncIterator[str | Answer]:
        """Yield the growing answer text while it is generated, then the final validated Answer."""
        started = time.perf_counter()
        # Keep a little time in hand so that even the fallback arrives within llm_timeout_s.
        reserve = min(self.settings.llm_fallback_reserve_s, 0.25 * self.settings.llm_timeout_s)
        deadline = started + self.settings.llm_timeout_s - reserve
        queue: asyncio.Queue[str | Answer] = asyncio.Queue()
        # A client per answer, bound to this event loop (LangChain's shared default client outlives loops).
        client = self._http_async_client or httpx.AsyncClient(timeout=self.settings.llm_timeout_s)
        task = asyncio.create_task(self._generate(question, history or [], queue, started, client))
        try:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError
                item = await asyncio.wait_for(queue.get(), timeout=remaining)
                yield item
                if isinstance(item, Answer):
                    return
        except TimeoutError:
            task.cancel()
            yield await self._fallback(question, history or [], started, "timeout", {})
        finally:
            if not task.done():
                task.cancel()
            if client is not self._http_async_client:
                await client.aclose()

    async def _generate(
        self, question: str, history: list[Turn], queue: asyncio.Queue, started: float, client: Any
    ) -> None:
        """Condense, retrieve, generate and validate; put partial texts and then the final Answer on the queue."""
        info: dict[str, Any] = {}
        try:
            standalone, how = await self.condense(question, history, client)
            info.update(standalone=standalone, rewrite=how)
            passages: list[Passage] = await asyncio.to_thread(
                self.knowledge.search, standalone, self.settings.llm_passages
            )
            extractive = await asyncio.to_thread(self.fallback.answer, standalone)
            info["extractive"] = extractive
            if not passages or extractive.declined:
                await queue.put(await self._fallback(question, history, started, "no_passages", info))
                return
            messages = grounded_messages(question, passages, self.settings.llm_max_answer_chars)
            model = self._model(self._extra_body, self.settings.llm_max_tokens, client)
            text, usage = "", None
            async for chunk in model.astream(messages):
                if chunk.content:
                    text += str(chunk.content)
                    await queue.put(text)
                if getattr(chunk, "usage_metadata", None):
                    usage = chunk.usage_metadata
            info["raw"] = text
            info["tokens"] = _tokens(usage, messages, text)
            await queue.put(self._finish(question, passages, text, started, info))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any model or network failure falls back
            log.warning("LLM answer failed, falling back: %s", exc)
            info["error"] = f"{type(exc).__name__}: {exc}"[:300]
            await queue.put(await self._fallback(question, history, started, "error", info))

    def _finish(self, question: str, passages: list[Passage], raw: str, started: float, info: dict) -> Answer:
        """Validate the citations of a generated text; without a valid one, fall back."""
        checked = validate(raw, len(passages))
        info["removed_markers"] = checked.removed
        if not checked.cited:
            return self._fallback_now(question, started, "no_valid_citation", info)
        text = in_script_of(checked.text, question)
        answer = Answer(
            question=question,
            text=text,
            declined=False,
            citations=citations_for(passages, checked),
            passages=passages,
            ms=(time.perf_counter() - started) * 1000,
            traditional=is_traditional(question),
        )
        answer.meta = self._meta("llm", "ok", answer.ms, info)
        return answer

    async def _fallback(
        self, question: str, history: list[Turn], started: float, reason: str, info: dict
    ) -> Answer:
        """The extractive answer (computed now unless already at hand), marked with why."""
        if "extractive" not in info:
            standalone = info.get("standalone") or rule_rewrite(question, history)
            info.setdefault("standalone", standalone)
            info["extractive"] = await asyncio.to_thread(self.fallback.answer, standalone)
        return self._fallback_now(question, started, reason, info)

    def _fallback_now(self, question: str, started: float, reason: str, info: dict) -> Answer:
        """Mark the extractive answer as a fallback."""
        answer: Answer = info["extractive"]
        answer.question = question
        answer.ms = (time.perf_counter() - started) * 1000
        answer.meta = {**answer.meta, **self._meta("extractive", reason, answer.ms, info)}
        return answer

    def _meta(self, mode: str, reason: str, ms: float, info: dict) -> dict:
        """Answer.meta for this answer; also logs the usage line."""
        tokens = info.get("tokens") or {"prompt": 0, "completion": 0, "estimated": False}
        self.usage.record(
            mode=mode,
            reason=reason,
            prompt_tokens=tokens["prompt"],
            completion_tokens=tokens["completion"],
            ms=ms,
        )
        meta = {"mode": mode, "reason": reason, "tokens": tokens, "llm_ms": round(ms, 1)}
        for key in ("standalone", "rewrite", "removed_markers", "error", "raw"):
            if key in info:
                meta[key] = info[key]
        return meta


def _tokens(usage: Any, messages: list[tuple[str, str]], text: str) -> dict:
    """Token counts from the server's usage report, or a rough estimate when it sent none."""
    if usage:
        return {
            "prompt": int(usage.get("input_tokens", 0)),
            "completion": int(usage.get("output_tokens", 0)),
            "estimated": False,
        }
    prompt_chars = sum(len(content) for _, content in messages)
    return {"prompt": round(prompt_chars / 1.5), "completion": round(len(text) / 1.5), "estimated": True}
