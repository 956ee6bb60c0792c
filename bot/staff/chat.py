"""Staff in a chat (Telegram): /queue, an item with action buttons, /reg; every press re-checks the staff role."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.chat.types import Button, ChatRef, Reply
from bot.staff import audit, regs, review
from bot.staff.accounts import Staff, StaffError, staff_for
from bot.staff.item_view import item_html
from bot.staff.models import StaffPrompt
from bot.staff.queue import QueueFilter, queue
from bot.staff.ratings import rate
from bot.staff.texts import t
from bot.storage.models import ChatIdentity
from bot.suggestions.types import catalog

COMMANDS = ("queue", "reg")
PER_PAGE = 8
GRADED = re.compile(r"^([A-Za-z])(?:[\s、：:.，,]+|$)")
PROMPTED = {
    "decline": "ask_reason",
    "conv": "ask_reason_convert",
    "assign": "ask_assign",
    "reply": "ask_reply",
}

_PROMPT = select(StaffPrompt).where(  # built once: looked up at every text a member sends
    StaffPrompt.channel == bindparam("channel"), StaffPrompt.user_id == bindparam("user")
)


class StaffDesk:
    """Channel-neutral staff chat: the Assistant hands it staff commands, st:/rt: presses and prompted texts."""

    def __init__(
        self, admin_ids: frozenset[str] = frozenset(), knowledge: Callable[[], object] | None = None
    ):
        self.admin_ids = admin_ids
        self.knowledge = knowledge  # called lazily: the knowledge base, for /reg

    def staff(self, s: Session, ref: ChatRef) -> Staff | None:
        """The staff member behind this chat user, or None."""
        return staff_for(s, ref.channel, ref.user_id, self.admin_ids)

    def _refuse(self, s: Session, ref: ChatRef, what: str) -> list[Reply]:
        audit.denied(s, f"{ref.channel}:{ref.user_id}", ref.channel, what)
        text = t("denied")
        return [Reply(text, toast=text)]

    def on_command(self, s: Session, ref: ChatRef, name: str, arg: str) -> list[Reply] | None:
        """/queue and /reg for staff (a refusal, logged, for anyone else); None for other commands."""
        if name == "cancel":
            return self._cancel(s, ref)
        if name not in COMMANDS:
            return None
        staff = self.staff(s, ref)
        if staff is None:
            return self._refuse(s, ref, f"/{name} {arg}".strip())
        if name == "queue":
            return [self.queue_reply(s, 1)]
        return self.reg(arg)

    def on_press(self, s: Session, ident: ChatIdentity, ref: ChatRef, data: str) -> list[Reply] | None:
        """st:… presses (staff only, checked on every press) and rt:… (a member's rating); None otherwise."""
        parts = data.split(":")
        if parts[0] == "rt" and len(parts) == 3:
            return rate(s, ident, parts[1], parts[2])
        if parts[0] != "st":
            return None
        staff = self.staff(s, ref)
        if staff is None:
            return self._refuse(s, ref, f"button {data}")
        action, args = (parts[1] if len(parts) > 1 else ""), parts[2:] + ["", ""]
        try:
            if action == "q":
                return [self.queue_reply(s, int(args[0]) if args[0].isdigit() else 1)]
            if action == "o":
                return [self.item_reply(s, review.load(s, args[0]))]
            if action == "a":
                return self._act(s, staff, ref, args[0], args[1])
            if action == "x":
                return self._cancel(s, ref) or []
            if action == "s":
                return self.section(args[0])
        except StaffError as exc:
            return [Reply(f"⚠️ {exc}", toast="操作未完成")]
        return [Reply(toast=t("rating_gone"))]

    def on_text(self, s: Session, ref: ChatRef, text: str) -> list[Reply] | None:
        """The value a staff prompt waits for (a decline reason, handling bodies, a reply); None if none waits."""
        prompt = self._prompt(s, ref)
        if prompt is None:
            return None
        staff = self.staff(s, ref)
        if staff is None:
            s.delete(prompt)
            return self._refuse(s, ref, f"prompt {prompt.action} {prompt.receipt_no}")
        data = _parse(prompt.action, text)
        action = "decline" if prompt.action == "conv" else prompt.action
        try:
            with s.begin_nested():
                done = review.perform(s, staff, prompt.receipt_no, action, data)
        except StaffError as exc:  # the prompt stays: the staff member can send a corrected value or /cancel
            return [Reply(f"⚠️ {exc}", [[Button(t("btn_cancel"), "st:x")]])]
        s.delete(prompt)
        return [Reply(done), self.item_reply(s, review.load(s, prompt.receipt_no))]

    def _prompt(self, s: Session, ref: ChatRef) -> StaffPrompt | None:
        return s.scalar(_PROMPT, {"channel": ref.channel, "user": ref.user_id})

    def _cancel(self, s: Session, ref: ChatRef) -> list[Reply] | None:
        if self._prompt(s, ref) is None:
            return None
        s.execute(
            delete(StaffPrompt).where(StaffPrompt.channel == ref.channel, StaffPrompt.user_id == ref.user_id)
        )
        return [Reply(t("prompt_cancelled"))]

    def _act(self, s: Session, staff: Staff, ref: ChatRef, receipt: str, action: str) -> list[Reply]:
        item = review.load(s, receipt)
        if action in PROMPTED:
            check = "decline" if action == "conv" else action
            if review.target_of(item, check) is None:  # refuse now rather than after the staff typed a reply
                review.perform(s, staff, receipt, check)
            s.execute(
                delete(StaffPrompt).where(
                    StaffPrompt.channel == ref.channel, StaffPrompt.user_id == ref.user_id
                )
            )
            s.add(
                StaffPrompt(
                    channel=ref.channel, user_id=ref.user_id, action=action, receipt_no=item.receipt_no
                )
            )
            return [Reply(t(PROMPTED[action], receipt=item.receipt_no), [[Button(t("btn_cancel"), "st:x")]])]
        with s.begin_nested():
            done = review.perform(s, staff, receipt, action)
        return [Reply(done), self.item_reply(s, review.load(s, receipt))]

    def queue_reply(self, s: Session, page: int) -> Reply:
        """The latest items waiting for review, one open button each, with paging."""
        rows, total = queue(s, QueueFilter(waiting_only=True), page, PER_PAGE)
        if total == 0:
            return Reply(t("queue_empty"))
        cat = catalog()
        pages = max(1, math.ceil(total / PER_PAGE))
        lines = [t("queue_header", total=total, page=page, pages=pages)]
        for n, (item, member) in enumerate(rows, (page - 1) * PER_PAGE + 1):
            lines.append(
                t("queue_line", n=n, receipt=item.receipt_no, type_name=cat.get(item.type).name,
                  status=cat.status_label(item.status), title=item.title, member=member.name if member else "公众",
                  date=item.created_at.strftime("%m-%d"))
            )  # fmt: skip
        buttons = [[Button(t("btn_open", receipt=i.receipt_no), f"st:o:{i.receipt_no}")] for i, _ in rows]
        nav = []
        if page > 1:
            nav.append(Button(t("btn_prev"), f"st:q:{page - 1}"))
        if page < pages:
            nav.append(Button(t("btn_next"), f"st:q:{page + 1}"))
        return Reply("\n".join(lines), buttons + ([nav] if nav else []))

    def item_reply(self, s: Session, item) -> Reply:
        """The item with a button per legal action."""
        buttons = [Button(t(f"act_{a}"), f"st:a:{item.receipt_no}:{a}") for a in review.actions_for(item)]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        if "decline" in review.actions_for(item) and item.type in review.CONVERSIONS:
            rows.append([Button(t("btn_convert"), f"st:a:{item.receipt_no}:conv")])
        rows.append([Button(t("btn_queue"), "st:q:1")])
        return Reply(item_html(s, item), rows)

    def reg(self, query: str) -> list[Reply]:
        """The exact text of the passages matching the query, each with a button for its whole section."""
        if not query.strip():
            return [Reply(t("reg_usage"))]
        passages = regs.find(self.knowledge(), query)
        if not passages:
            return [Reply(t("reg_none", query=query))]
        parts = [t("reg_header", query=query)]
        for n, p in enumerate(passages, 1):
            parts.append(t("reg_passage", n=n, title=p.title, section=p.section, text=p.text))
        buttons = [
            Button(t("btn_section", n=n), f"st:s:{regs.key_of(p.chunk_id)}")
            for n, p in enumerate(passages, 1)
        ]
        return [Reply("\n\n".join(parts), [buttons])]

    def section(self, key: str) -> list[Reply]:
        """The whole section around a passage, chunk by chunk in document order."""
        kb = self.knowledge()
        chunk = regs.chunk_by_key(kb, key)
        if chunk is None:
            return [Reply(t("reg_gone"))]
        chunks = regs.section(kb, chunk.chunk_id)
        head = chunk.section.split(" > ")[0]
        body = "\n\n".join(t("reg_section_chunk", section=c.section, text=c.text) for c in chunks)
        return [Reply(t("reg_section_header", title=chunk.title, section=head) + "\n\n" + body)]


def _parse(action: str, text: str) -> review.ActionInput:
    """The action's input from a staff message (see the ask_* prompts for the formats)."""
    text = text.strip()
    if action == "assign":
        lines = [line.strip() for line in text.replace("、", "\n").splitlines() if line.strip()]
        return review.ActionInput(lead=lines[0] if lines else "", assisting=lines[1:])
    if action == "reply":  # "A\n答复……" or "A 答复……"; a micro-suggestion's reply may have no grade
        graded = GRADED.match(text)
        if graded is None:
            return review.ActionInput(reply=text)
        return review.ActionInput(grade=graded.group(1), reply=text[graded.end() :].strip())
    if action == "conv":
        return review.ActionInput(reason=text, convert_to="opinion")
    return review.ActionInput(reason=text)
