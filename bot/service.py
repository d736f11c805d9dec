"""The bot service over HTTP: Rasa's NLU (/model/parse), the actions webhook, tickets."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from actions import all_actions
from bot.console import create_console
from bot.decision import (
    ANSWER,
    CHOICES,
    CHOOSE_FAQ,
    CLARIFY,
    OFFER,
    REQUEST_HUMAN,
    SUGGEST,
    Decision,
)
from bot.errors import BotError
from bot.nlu.payload import format_payload
from bot.services import Services
from bot.widget import mount_widget

logger = logging.getLogger(__name__)


class BadRequest(BotError):
    """The request body is not what the endpoint takes."""

    status_code = 400


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _string_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    return value


def _choices(decision: Decision, offer: int | None) -> dict[str, str]:
    """Return the buttons of a clarification or a suggestion as the slots utter_clarify
    shows: how many FAQs are offered (one, when the nearest phrasings are all one FAQ's),
    each one's question and payload, and the payload of "talk to a person".

    A suggestion's buttons carry its inbox id back, so staff see which one was clicked."""
    noted = {OFFER: offer} if offer is not None else {}
    offered = decision.candidates[:CHOICES]
    values = {"choices": str(len(offered)),
              "person_payload": format_payload(REQUEST_HUMAN, **noted)}
    for number, candidate in enumerate(offered, start=1):
        values[f"choice_{number}"] = candidate.question
        values[f"choice_{number}_payload"] = format_payload(
            CHOOSE_FAQ, faq_key=candidate.key, **noted)
    return values


def _entities(decision: Decision, answer: str | None, offer: int | None) -> list[dict[str, Any]]:
    """Return the entities Rasa keeps in slots for the reply: the answered FAQ's key and text,
    or the choices offered. A button payload's own entities stop here: typed by hand, they
    must not fill what replies show."""
    values: dict[str, Any] = {}
    if answer is not None:
        values.update(faq_key=decision.faq_key, faq_answer=answer)
    if decision.decision in (CLARIFY, SUGGEST):
        values.update(_choices(decision, offer))
    return [{"entity": k, "value": v} for k, v in values.items()]


def parse_reply(decision: Decision, services: Services, offer: int | None = None
                ) -> dict[str, Any]:
    """Return Rasa's parse JSON for a decision, plus the keys our actions read.

    What the reply shows (an FAQ's answer, the choices offered, with `offer`, the inbox id of
    a suggestion) travels only as entities, which Rasa keeps in slots for its responses:
    every top-level key is stored in each message's tracker event."""
    faq = services.index.current.entries.get(decision.faq_key or "")
    answer = faq.answer if faq is not None and decision.decision == ANSWER else None
    confidence = round(decision.confidence, 4)
    return {
        "text": decision.text,
        "intent": {"name": decision.rasa_intent, "confidence": confidence},
        "intent_ranking": [{"name": decision.rasa_intent, "confidence": confidence}],
        "entities": _entities(decision, answer, offer),
        "decision": decision.decision,
        "candidates": [c.as_dict() for c in decision.candidates],
    }


def create_app(services: Services, *, watch_faqs: bool = True) -> FastAPI:
    """Return the bot service app using these collaborators.

    Args:
        services: the stores, encoder, router and index to serve.
        watch_faqs: poll the database and swap in a rebuilt index when FAQs change.
    """

    async def watch() -> None:
        while True:
            await asyncio.sleep(services.settings.reload_interval)
            try:
                await run_in_threadpool(services.index.refresh)
            except Exception:
                logger.exception("could not check for FAQ changes")

    # Each lane, short and long messages, has threads of its own that decide at most
    # decide_threads messages at once, the rest in arrival order; Settings says why. Threads
    # kept for one lane cost less CPU per message than anyio's shared pool behind a limiter.
    lanes = tuple(ThreadPoolExecutor(services.settings.decide_threads,
                                     thread_name_prefix=f"decide-{kind}")
                  for kind in ("short", "long"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        await run_in_threadpool(services.warm_up)
        # Out of the garbage collector's view: the model, index and libraries loaded so far
        # (about 150,000 objects). Each full collection walked them all: a 130-150 ms stop
        # under load (issue 4).
        gc.collect()
        gc.freeze()
        watcher = asyncio.create_task(watch()) if watch_faqs else None
        yield
        if watcher is not None:
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher
        for lane in lanes:
            lane.shutdown(wait=False)

    app = FastAPI(title="Bramblewood Bank assistant", lifespan=lifespan)
    app.state.services = services
    executor = ActionExecutor()
    for action in all_actions(services.tickets):
        executor.register_action(action)

    @app.exception_handler(BotError)
    async def bot_error(_request: Request, exc: BotError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "invalid request", "detail": exc.errors()}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        return JSONResponse({"error": "internal error"}, status_code=500)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "faqs": len(services.index.current)}

    @app.post("/model/parse")
    async def model_parse(request: Request) -> JSONResponse:
        body = await _json_object(request)
        text = _string_field(body, "text")
        # Rasa sends the conversation's sender id as message_id.
        conversation = body.get("message_id") if isinstance(body.get("message_id"), str) else None
        lane = lanes[len(text) > services.settings.long_message_chars]
        decision = await asyncio.get_running_loop().run_in_executor(
            lane, services.decider.decide, text)
        filed = None  # the inbox id, which a suggestion's buttons send back
        if decision.unanswered:  # feeds the console's inbox
            filed = await run_in_threadpool(
                services.inbox.record, text=text, decision=decision.unanswered,
                faq_key=decision.faq_key, score=decision.confidence,
                conversation_id=conversation)
        reply = parse_reply(decision, services, filed)
        if conversation and decision.clicked_offer is not None:
            # A click on the choices offered for that inbox message: an FAQ, or (None) a person.
            await run_in_threadpool(services.inbox.record_choice,
                                    message_id=decision.clicked_offer,
                                    conversation_id=conversation, faq_key=decision.faq_key)
        # A plain JSONResponse skips FastAPI's response-model encoding, per message.
        return JSONResponse(reply)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        action_call = await _json_object(request)
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 400)
        except ActionNotFoundException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 404)
        except ActionMissingDomainException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 449)
        return JSONResponse(result.model_dump() if result else None)

    @app.post("/tickets", status_code=201)
    async def create_ticket(request: Request) -> dict[str, Any]:
        body = await _json_object(request)
        transcript = body.get("transcript", [])
        candidates = body.get("candidates", [])
        if not isinstance(transcript, list) or not isinstance(candidates, list):
            raise BadRequest("'transcript' and 'candidates' must be lists")
        ticket = await run_in_threadpool(
            lambda: services.tickets.create_ticket(
                conversation_id=_string_field(body, "conversation_id"),
                reason=_string_field(body, "reason"),
                transcript=transcript,
                candidates=candidates,
            )
        )
        return {"reference": ticket.reference}

    @app.get("/tickets/{reference}")
    def get_ticket(reference: str) -> dict[str, Any]:
        ticket = services.tickets.get_ticket(reference=reference)
        return {
            "reference": ticket.reference,
            "conversation_id": ticket.conversation_id,
            "reason": ticket.reason,
            "status": ticket.status,
            "transcript": ticket.transcript,
            "candidates": ticket.candidates,
            "created_at": ticket.created_at.isoformat(),
        }

    @app.get("/faqs/{key}")
    def get_faq(key: str) -> dict[str, Any]:
        faq = services.faqs.get_faq(key=key)
        return {"key": faq.key, "category": faq.category, "question": faq.question,
                "answer": faq.answer}

    mount_widget(app, services)  # the chat widget, its demo page at / and POST /feedback
    app.mount("/staff", create_console(services))
    return app
