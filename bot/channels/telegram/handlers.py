"""Thin Telegram handlers: translate an update into a core Event and render the replies."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.channels.flood import FloodLimiter
from bot.channels.pool import in_answer_pool
from bot.channels.telegram import member_menu
from bot.channels.telegram.sender import Sender
from bot.channels.telegram.staff_menu import staff_chat_ids
from bot.channels.telegram.streaming import reply_streaming, streams_answers
from bot.chat import processed, script
from bot.chat.texts import say
from bot.chat.types import ChatRef, Event, IncomingFile

log = logging.getLogger(__name__)
MAX_DOWNLOAD = 20 * 1024 * 1024  # the Bot API's getFile limit


def _ref(update: Update) -> ChatRef:
    user, chat = update.effective_user, update.effective_chat
    return ChatRef(
        "telegram", str(chat.id), str(user.id if user else chat.id), user.full_name if user else ""
    )


def _sender(context: ContextTypes.DEFAULT_TYPE) -> Sender:
    return context.bot_data["sender"]


def _key(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The update's idempotency key, "<bot id>:<update_id>" (a new token or id sequence never collides)."""
    return processed.telegram_key(context.bot.token, update.update_id)


async def _run(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
    services = context.bot_data["services"]
    replies = await in_answer_pool(services, services.assistant.handle, _ref(update), event)
    query = update.callback_query
    pressed = query.message.message_id if query is not None and query.message is not None else None
    await _sender(context).replies(update.effective_chat.id, replies, query.id if query else None, pressed)


async def _script(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> bool:
    """The chat's remembered script (True: Traditional) for the adapter's own notices."""
    db = context.bot_data["services"].db
    return await asyncio.to_thread(script.of_chat, db, "telegram", str(chat_id))


async def skip_processed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop an update already processed (Telegram delivers at least once) before any handler: no API call."""
    db = context.bot_data["services"].db
    if await asyncio.to_thread(processed.was_processed, db, "telegram", _key(update, context)):
        log.info("duplicate update %s ignored", update.update_id)
        raise ApplicationHandlerStop


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop one user flooding the bot: tell them once, then drop their updates for a while."""
    limiter: FloodLimiter = context.bot_data["flood"]
    user = update.effective_user
    if user is None:
        return
    verdict = await asyncio.to_thread(limiter.check, str(user.id))  # a database statement with replicas
    if verdict == "ok":
        return
    if verdict == "warn" and update.effective_chat is not None:
        try:
            trad = await _script(context, update.effective_chat.id)
            await _sender(context).message(update.effective_chat.id, say("flood", trad))
        except TelegramError as exc:
            log.warning("flood notice not sent: %r", exc)
    if update.callback_query is not None:
        await _sender(context).answer(update.callback_query.id)
    raise ApplicationHandlerStop


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [code], /help, /cancel, /mine, /suggest."""
    name = update.effective_message.text.split()[0].lstrip("/").split("@")[0].lower()
    words = update.effective_message.text.split(maxsplit=1)
    arg = words[1].strip() if len(words) > 1 else ""  # the whole rest: /reg takes a question with spaces
    await _run(update, context, Event("command", name, arg, update_key=_key(update, context)))
    if name == "start" and await _script(context, update.effective_chat.id):  # their own Traditional menu
        await _menu(context, update.effective_chat.id, True)


async def _menu(context: ContextTypes.DEFAULT_TYPE, chat_id: int, traditional: bool) -> None:
    """Give the chat the command menu of its script (member_menu.follow_script; staff chats keep /queue, /reg)."""
    staff = str(chat_id) in await asyncio.to_thread(staff_chat_ids, context.bot_data["services"])
    await member_menu.follow_script(_sender(context), chat_id, traditional, staff)


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text: a field of the current flow, or a question (shows 'typing' first). When the text changes the
    member's remembered script (bot.chat.script), the chat's command menu follows it."""
    chat_id = update.effective_chat.id
    await _sender(context).typing(chat_id)
    decides = script.verdict(update.effective_message.text or "") is not None
    before = await _script(context, chat_id) if decides else None
    await _answer_text(update, context)
    if decides and (after := await _script(context, chat_id)) != before:
        await _menu(context, chat_id, after)


async def _answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    event = Event("text", update.effective_message.text, update_key=_key(update, context))
    services = context.bot_data["services"]
    if streams_answers(services.settings):  # an LLM answer streams into one message, edited at a bounded rate
        handle = functools.partial(services.assistant.handle, _ref(update), event)
        chat_id = update.effective_chat.id
        await reply_streaming(_sender(context), chat_id, handle, services.settings.stream_edit_interval_s)
        return
    await _run(update, context, event)


async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button."""
    await _run(
        update, context, Event("press", update.callback_query.data or "", update_key=_key(update, context))
    )


async def attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo or document: downloaded into data_dir/attachments and kept in the draft by file id."""
    msg = update.effective_message
    if msg.photo:
        media, kind, name = msg.photo[-1], "photo", f"{msg.photo[-1].file_unique_id}.jpg"
    else:
        media, kind, name = msg.document, "document", msg.document.file_name or msg.document.file_unique_id
    local = ""
    settings = context.bot_data["services"].settings
    if (media.file_size or 0) <= MAX_DOWNLOAD:
        safe = Path(name).name.replace("..", "_") or media.file_unique_id
        target = (
            settings.data_dir
            / "attachments"
            / str(update.effective_chat.id)
            / f"{media.file_unique_id}_{safe}"
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tg_file = await _sender(context).call(lambda: context.bot.get_file(media.file_id))
            await tg_file.download_to_drive(target)
            local = str(target)
        except Exception:  # keep the file id; staff can fetch it later
            log.warning("download of %s failed", media.file_id, exc_info=True)
    file = IncomingFile(kind=kind, file_id=media.file_id, file_name=name, local_path=local)
    await _run(update, context, Event("file", file=file, update_key=_key(update, context)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its context and send the member a short apology."""
    if isinstance(update, Update):
        user = update.effective_user
        log.error(
            "error handling update %s (user %s, chat %s): %s",
            update.update_id,
            user.id if user else None,
            update.effective_chat.id if update.effective_chat else None,
            repr(context.error),
            exc_info=context.error,
        )
        if update.effective_chat is not None:
            try:
                trad = await _script(context, update.effective_chat.id)
                await _sender(context).message(update.effective_chat.id, say("apology", trad))
            except Exception:
                log.warning("could not send the apology", exc_info=True)
    else:
        log.error("error outside an update: %r", context.error, exc_info=context.error)
