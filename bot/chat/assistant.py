"""The conversation core: one entry point for every channel; idempotent per update key."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bot.answering.conversation import answer_in_chat, answer_with_history, history_limit, record_answer
from bot.answering.types import Answer
from bot.campaigns import answers
from bot.chat import menu, processed, qa, script
from bot.chat.texts import say
from bot.chat.types import Button, ChatRef, Event, Reply
from bot.members.service import identity_for
from bot.storage import Database
from bot.storage.chat_history import recent_turns
from bot.storage.models import ChatIdentity, FlowState, utcnow
from bot.suggestions import flow, kinds, views
from bot.suggestions import state as flow_state
from bot.textnorm import is_traditional

log = logging.getLogger(__name__)
QUESTION_MAX = 1000  # characters of a question; a longer one is refused with its real length, never cut
kinds.register(answers.TYPE_KEY, answers.FLOW_KIND)  # a campaign answer starts by picking the campaign


class Ledger(Protocol):
    """A channel's own record of one event, written in the event's transaction (e.g. the web chat's messages)."""

    def seen(self, s: Session) -> bool:
        """Whether the event was recorded before (a replay), read without writing: checked before a question is
        answered, so that a replay does not pay for an answer (an LLM's, say) it will not give."""
        ...

    def claim(self, s: Session) -> bool:
        """Record the event; False when it was recorded before (a replay: nothing more is written)."""
        ...

    def store(self, s: Session, replies: list[Reply]) -> None:
        """Record the replies to the event claimed in this transaction."""
        ...


class Assistant:
    """Turns a user's event into replies, using the database and the answerer (sync; call from a thread)."""

    def __init__(
        self,
        db: Database,
        answerer,
        idle_minutes: int = 60,
        rules_dir=None,
        similar=None,
        staff=None,
        office_contact: str = "",
        knowledge=None,
    ) -> None:
        self.db = db
        # a callable giving the knowledge base, called lazily (查看整节); None: no knowledge base
        self.knowledge = knowledge
        self.office_contact = office_contact  # LVZHI_OFFICE_CONTACT: given with 「联系工作人员」
        self.staff = staff  # bot.staff.chat.StaffDesk: /queue, /reg, st:/rt: buttons, staff prompts
        self.answerer = answerer
        self.idle = timedelta(minutes=idle_minutes)
        self.rules_dir = rules_dir  # yearly scoring rule tables, for /record
        self.similar = similar  # SimilarFinder: offers to support a close existing item before submitting

    def handle(self, ref: ChatRef, event: Event, ledger: Ledger | None = None) -> list[Reply]:
        """Process one event in one write transaction; a repeated update_key returns no replies.

        `ledger`: the channel's own record of the event, kept in that same transaction (the web chat's stored
        messages): claimed first — when its claim fails the event was handled before and [] is returned, with
        nothing written — and given the replies before the commit."""
        # A question is answered before the write transaction opens: answering may take seconds (an LLM), and
        # SQLite would otherwise hold its write lock, and stall every other chat, for all that time.
        ahead = self._answer_ahead(ref, event, ledger) if event.kind == "text" else None
        with self.db.session() as s:
            if ledger is not None and not ledger.claim(s):
                return []
            replies = self._handle_in(s, ref, event, ahead)
            if ledger is not None:
                ledger.store(s, replies)
            return replies

    def _handle_in(self, s: Session, ref: ChatRef, event: Event, ahead: Answer | None) -> list[Reply]:
        """`handle` inside its transaction."""
        if event.update_key and not self._claim(s, ref.channel, event.update_key):
            log.info("duplicate update %s/%s ignored", ref.channel, event.update_key)
            return []
        ident = identity_for(s, ref.channel, ref.user_id, ref.chat_id, ref.display_name)
        # the member's script: their recent messages decide; every text below follows it (bot.chat.script)
        traditional = (
            script.remember(ident, event.text) if event.kind == "text" else script.traditional_of(ident)
        )
        with script.speaking(traditional):
            state = flow.load(s, ref)
            # a leave reason awaited (bot/activities); any other event ends the wait
            if state is not None and state.flow == "activity_leave":
                from bot.activities import chat as activity_chat

                if event.kind == "text" and not self._idle(state):
                    return activity_chat.on_text(s, ident, state, event.text)
                s.delete(state)
                s.flush()
                state = None
            notice: list[Reply] = []
            if self._idle(state):
                if views.has_content(state):
                    state.paused = True
                    notice = [self._resume_offer(state)]
                else:  # left at the type menu: nothing to offer back
                    s.delete(state)
                    s.flush()
                    state = None
            return self._dispatch(s, ident, ref, state, event, ahead) + notice

    def _idle(self, state: FlowState | None) -> bool:
        return state is not None and not state.paused and self._stale(state.updated_at)

    def _stale(self, updated_at: datetime) -> bool:
        """Whether a flow last changed at `updated_at` has been left longer than the idle time."""
        return utcnow() - updated_at > self.idle

    def _in_flow(self, activity: tuple[bool, datetime] | None) -> bool:
        """Whether a text now is the next answer of the chat's flow: (paused, updated_at) of a flow running and
        not idle (bot.suggestions.state.activity)."""
        return activity is not None and not activity[0] and not self._stale(activity[1])

    def _answer_ahead(self, ref: ChatRef, event: Event, ledger: Ledger | None = None) -> Answer | None:
        """The answer to a text that will be a question (read-only look at the chat), or None."""
        question = event.text.strip()
        if not question or len(question) > QUESTION_MAX:
            return None
        with self.db.session() as s:
            if event.update_key and processed.seen(s, ref.channel, event.update_key):
                return None
            if ledger is not None and ledger.seen(s):
                return None
            if self._in_flow(flow_state.activity(s, ref)):
                return None  # the text belongs to a flow
            history = recent_turns(s, ref.channel, ref.chat_id, history_limit(self.answerer))
            s.rollback()  # nothing to write; end the read transaction before the slow part
        return answer_with_history(self.answerer, question, history)

    @staticmethod
    def _claim(s: Session, channel: str, key: str) -> bool:
        return processed.claim(s, channel, key)  # keys expire after processed.KEEP (7 days)

    @staticmethod
    def _resume_offer(state: FlowState) -> Reply:
        rows = [[Button(say("btn_resume"), "f:r"), Button(say("btn_discard"), "f:x")]]
        return Reply(say("draft_paused", draft=views.draft_summary(state)), rows)

    def _dispatch(
        self,
        s: Session,
        ident: ChatIdentity,
        ref: ChatRef,
        state: FlowState | None,
        ev: Event,
        ahead: Answer | None = None,
    ) -> list[Reply]:
        active = state if state is not None and not state.paused else None
        if ev.kind == "command":
            return self._command(s, ident, ref, state, ev.text, ev.arg)
        if ev.kind == "press":
            return self._press(s, ident, ref, state, ev.text)
        if ev.kind == "text" and self.staff is not None:
            staff_replies = self.staff.on_text(
                s, ref, ev.text
            )  # a staff prompt's value (decline reason, reply)
            if staff_replies is not None:
                return staff_replies
        if ev.kind == "file":
            if active is None:
                return [Reply(say("file_outside_flow"), [[Button(say("btn_new_suggestion"), "m:new")]])]
            return flow.on_file(active, ev.file)
        if active is not None:
            return flow.on_text(active, ev.text)
        return self.ask(s, ident, ref, ev.text, ahead)

    def ask(
        self, s: Session, ident: ChatIdentity, ref: ChatRef, question: str, ahead: Answer | None = None
    ) -> list[Reply]:
        """Answer a question with citations and log it (ahead: its answer, computed outside the transaction)."""
        question = question.strip()
        if not question:
            return [Reply(say("empty_question"))]
        if len(question) > QUESTION_MAX:
            trad = is_traditional(question)
            return [Reply(say("chat_question_too_long", trad, n=len(question), max=QUESTION_MAX))]
        # Follow-ups ("那社情民意呢？") are resolved with the chat's last turns, which are stored here too.
        if ahead is not None and ahead.question == question:
            answer = record_answer(self.answerer, s, ref.channel, ref.chat_id, question, ahead)
        else:
            answer = answer_in_chat(self.answerer, s, ref.channel, ref.chat_id, question)
        row = qa.log_answer(s, ident, ref, answer)
        return [qa.render_answer(answer, row.id)]

    def _command(
        self, s: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, name: str, arg: str
    ) -> list[Reply]:
        staff_replies = self.staff.on_command(s, ref, name, arg) if self.staff is not None else None
        if staff_replies is not None:  # staff commands (refused and logged for anyone else)
            return staff_replies
        if name == "start" and arg.startswith("act-"):  # an activity's check-in link: ?start=act-<code>
            from bot.activities import chat as activity_chat

            return activity_chat.check_in(s, ident, arg.removeprefix("act-"))
        if name == "activities":
            from bot.activities import chat as activity_chat

            return [activity_chat.list_reply(s, ident)]
        if name == "start" and arg.startswith("cmp-"):  # a campaign's deep link: t.me/<bot>?start=cmp-<id>
            return answers.on_press(s, ident, ref, state, arg.removeprefix("cmp-"))
        if name == "start":
            return menu.start(s, ident, state, arg)
        if name == "help":
            return [menu.help_reply(ident)]
        if name == "cancel":
            if state is None:
                return [Reply(say("cancel_nothing"))]
            s.delete(state)
            return [Reply(say("cancelled"))]
        if name == "mine":
            return [menu.mine(s, ident, state)]
        if name == "record" and self.rules_dir is not None:
            from bot.records.member_view import record_replies

            return record_replies(s, ident, self.rules_dir)
        if name == "suggest":
            if state is not None and views.has_content(state):
                return [self._resume_offer(state)]
            return flow.begin(s, ident, ref)
        return [Reply(say("unknown_command"))]

    def _press(
        self, s: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, data: str
    ) -> list[Reply]:
        staff_replies = self.staff.on_press(s, ident, ref, data) if self.staff is not None else None
        if staff_replies is not None:  # st:… staff buttons (role checked on every press), rt:… reply ratings
            return staff_replies
        parts = data.split(":")
        head, action = parts[0], parts[1] if len(parts) > 1 else ""
        args = parts[2:] + ["", ""]
        if head == "q":
            if action == "p":
                return qa.show_passage(s, ident, args[0], args[1])
            if action == "t":
                return qa.traditional_reading(s, ident, args[0], args[1])
            if action == "w":
                kb = self.knowledge() if self.knowledge is not None else None
                return qa.whole_section(s, ident, args[0], args[1], kb)
            if action == "v":
                return qa.vote(s, ident, args[0], args[1])
            question = qa.question_of(s, ident, args[0])
            if question is None:
                return [Reply(toast=say("toast_expired"))]
            if action == "s":
                return qa.contact_staff(s, ident, args[0], self.office_contact)
            if action == "m":
                content = question if len(question) >= 10 else ""
                return flow.begin(s, ident, ref, "micro", {"content": content[:500]} if content else None)
        if head == "m":
            return self._command(s, ident, ref, state, {"new": "suggest"}.get(action, action), "")
        if head == "f":
            if state is None:
                return [Reply(say("flow_gone"), [[Button(say("btn_new_suggestion"), "m:new")]])]
            if action == "x":
                s.delete(state)
                return [Reply(say("cancelled"))]
            if action == "r":
                state.paused, state.updated_at = False, utcnow()
                return [views.step_prompt(state)]
            if action == "n":
                return flow.begin(s, ident, ref)
            if state.paused:
                return [self._resume_offer(state)]
            return flow.on_press(s, ident, state, action, args[0], similar=self.similar)
        if head == "act":  # an activity notice's buttons: act:y|n|r|o:<id>[:<reason>]
            from bot.activities import chat as activity_chat

            return activity_chat.on_press(s, ident, ref, state, action, parts[2:])
        if head == "cmp":  # a campaign invitation's button: data 'cmp:<id>'
            return answers.on_press(s, ident, ref, state, action)
        return [Reply(toast=say("toast_expired"))]
