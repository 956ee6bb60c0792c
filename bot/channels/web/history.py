"""The web chat's conversation kept on the server (table web_messages): what a reload shows again, and the replies a
retried request gets back instead of a second answer.

A request with a client-made key records the member's message under that key and its replies in the Assistant's
one write transaction (`Exchange`, the Assistant's ledger); the request whose transaction recorded it answers, a
replay of the key gets those replies (`replies_of`) instead. Sync functions on a SQLAlchemy Session (call them
from a thread).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from bot.chat.types import Button, Reply
from bot.storage.insert_once import insert_once
from bot.storage.models import QALog, WebMessage, WebSession, utcnow

_ADD = insert(WebMessage)  # the replies, one executemany
_SEEN = select(WebMessage.id).where(  # built once: read before every keyed question
    WebMessage.chat_id == bindparam("chat"), WebMessage.update_key == bindparam("key"), WebMessage.seq == 0
)
PAGE = 30  # messages per history page
SHOWN = ("me", "bot")  # roles listed in the history; "aside" rows (passages, votes) are only kept for replays


@dataclass(frozen=True)
class Shown:
    """One message as the page draws it: id (for paging), role "me" | "bot", html, button rows, meta."""

    id: int
    role: str
    html: str
    buttons: list[list[dict]]
    meta: dict


@dataclass
class Exchange:
    """One request's message and replies, kept in the Assistant's write transaction (a bot.chat.assistant.Ledger).

    `claim` records the member's message (escaped `html`) under the client key; when the key was recorded before it
    writes nothing and `replayed` turns True. `store` adds the replies (seq 1..n). The message is written already
    marked answered: its replies come in the same transaction, so nobody ever sees it without them.
    `aside`: the exchange is not listed in the history (a passage opened or a vote), only kept for replays."""

    chat_id: str
    key: str | None
    html: str
    aside: bool = False
    replayed: bool = False

    def seen(self, s: Session) -> bool:
        """Whether a message with this key was recorded before (always False without a key)."""
        if self.key is None:
            return False
        return s.connection().execute(_SEEN, {"chat": self.chat_id, "key": self.key}).first() is not None

    def claim(self, s: Session) -> bool:
        """Record the member's message; False (and `replayed`) when its key was recorded before."""
        role = "aside" if self.aside else "me"
        values = dict(chat_id=self.chat_id, update_key=self.key, seq=0, role=role, html=self.html)
        self.replayed = not insert_once(s, WebMessage, **values, answered_at=utcnow())
        return not self.replayed

    def store(self, s: Session, replies: list[Reply]) -> None:
        """Store the replies to the claimed message (seq 1..n), in one statement.

        Replies with only a toast are kept for replays too (a toast is not listed in the history)."""
        rows = []
        for n, r in enumerate(replies, 1):
            buttons = [[{"label": b.label, "data": b.data} for b in row] for row in r.buttons]
            meta = {**r.meta, **({"toast": r.toast} if r.toast else {})}
            role = "bot" if r.html and not self.aside else "aside"
            rows.append(
                dict(chat_id=self.chat_id, update_key=self.key, seq=n, role=role, html=r.html, buttons=buttons,
                     meta=meta, created_at=utcnow())
            )  # fmt: skip
        if rows:
            s.connection().execute(_ADD, rows)  # Core executemany: no ORM layer needed for plain rows


def replies_of(s: Session, chat_id: str, key: str) -> list[Reply] | None:
    """The stored replies to the message with `key`, or None while it is still being answered."""
    rows = list(
        s.scalars(
            select(WebMessage)
            .where(WebMessage.chat_id == chat_id, WebMessage.update_key == key)
            .order_by(WebMessage.seq)
        )
    )
    if not rows or rows[0].seq != 0 or rows[0].answered_at is None:
        return None
    out = []
    for r in rows[1:]:
        meta = dict(r.meta or {})
        toast = meta.pop("toast", "")
        buttons = [[Button(b["label"], b["data"]) for b in row] for row in (r.buttons or [])]
        out.append(Reply(r.html, buttons, toast=toast, meta=meta))
    return out


def add_notes(s: Session, chat_id: str, notes: list[tuple[str, list[list[Button]]]]) -> None:
    """Store delivered notifications (html, button rows) as bot messages of the chat."""
    for html, rows in notes:
        buttons = [[{"label": b.label, "data": b.data} for b in row] for row in rows]
        s.add(WebMessage(chat_id=chat_id, seq=0, role="bot", html=html, buttons=buttons, meta={}))


def page(s: Session, chat_id: str, before: int | None = None, size: int = PAGE) -> tuple[list[Shown], bool]:
    """The chat's latest `size` shown messages older than id `before` (all when None), oldest first, and whether
    earlier ones exist. An answer's meta gets "vote" (1, -1 or 0): the member's last vote on it."""
    stmt = select(WebMessage).where(WebMessage.chat_id == chat_id, WebMessage.role.in_(SHOWN))
    if before is not None:
        stmt = stmt.where(WebMessage.id < before)
    rows = list(s.scalars(stmt.order_by(WebMessage.id.desc()).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size][::-1]
    qa_ids = [r.meta["qa_id"] for r in rows if r.meta and isinstance(r.meta.get("qa_id"), int)]
    votes = votes_of(s, chat_id, qa_ids)
    out = []
    for r in rows:
        meta = dict(r.meta or {})
        meta.pop("toast", None)
        if isinstance(meta.get("qa_id"), int):
            meta["vote"] = votes.get(meta["qa_id"], 0)
        out.append(Shown(r.id, r.role, r.html, r.buttons or [], meta))
    return out, more


def votes_of(s: Session, chat_id: str, qa_ids: list[int]) -> dict[int, int]:
    """{qa_id: vote} for this web chat's logged answers among `qa_ids` (0: no vote)."""
    if not qa_ids:
        return {}
    rows = s.execute(
        select(QALog.id, QALog.vote).where(
            QALog.id.in_(qa_ids), QALog.channel == "web", QALog.chat_id == chat_id
        )
    )
    return {i: int(v or 0) for i, v in rows}


def drop_history(s: Session, chats: list[str]) -> int:
    """Delete the stored conversation of those `chats` that no longer have a session (nobody can open it again);
    the number of messages deleted."""
    if not chats:
        return 0
    alive = set(s.scalars(select(WebSession.external_id).where(WebSession.external_id.in_(chats))))
    gone = [c for c in chats if c not in alive]
    if not gone:
        return 0
    return s.execute(delete(WebMessage).where(WebMessage.chat_id.in_(gone))).rowcount or 0
