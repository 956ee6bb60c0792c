"""Staff services on SQLite and PostgreSQL: accounts, audit log, legal and illegal moves, ratings, overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.members.service import identity_for
from bot.staff import accounts, audit, overdue, review
from bot.staff.accounts import Staff, StaffError
from bot.staff.models import AuditEntry, Reminder, StaffAccount, SubmissionReply
from bot.staff.passwords import check_password
from bot.staff.ratings import rate
from bot.storage.models import Member, Notification, Submission
from bot.suggestions.service import submit

PROPOSAL = {
    "category": "社会建设",
    "fields": {
        "title": "关于加快老旧小区加装电梯的建议",
        "background": "老旧小区居民老龄化严重，上下楼困难。" * 5,
        "recommendations": "建议简化审批流程，设立专项补贴资金，推动加装电梯。",
    },
}
ALICE = Staff("alice", "staff", "小李", "web")


def _member_item(s, type_key: str = "proposal", draft: dict | None = None):
    member = Member(name="张三", sector="经济界", phone="13800000009")
    s.add(member)
    s.flush()
    ident = identity_for(s, "telegram", "501", "501", "张三")
    ident.member_id = member.id
    return ident, submit(s, ident, type_key, draft or PROPOSAL)


def test_accounts_hash_audit_and_refusals(database):
    with database.session() as s:
        a = accounts.add(s, "root", "alice", "correct horse", "staff", "小李", "9001")
        assert a.password_hash.startswith("scrypt$") and "correct horse" not in a.password_hash
        assert check_password("correct horse", a.password_hash) and not check_password(
            "wrong", a.password_hash
        )
        for bad in [("alice", "another pass", "staff"), ("bob", "short", "staff"), ("bob", "long enough", "boss"),
                    ("中文名", "long enough", "staff")]:  # fmt: skip
            with pytest.raises(StaffError):
                accounts.add(s, "root", *bad)
    with database.session() as s:
        assert accounts.authenticate(s, "alice", "correct horse").username == "alice"
        assert (
            accounts.authenticate(s, "alice", "nope") is None and accounts.authenticate(s, "x", "y") is None
        )
        assert accounts.staff_for(s, "telegram", "9001").username == "alice"
        assert accounts.staff_for(s, "telegram", "9002") is None
        assert accounts.staff_for(s, "telegram", "9002", frozenset({"9002"})).role == "admin"
        assert accounts.staff_for(s, "web", "9001") is None
        accounts.set_password(s, "root", "alice", "new password 1")
        accounts.remove(s, "root", "alice")
    with database.session() as s:
        assert accounts.authenticate(s, "alice", "new password 1") is None  # deactivated
        assert accounts.staff_for(s, "telegram", "9001") is None
        rows = [(e.actor, e.action, e.target) for e in reversed(audit.latest(s))]
        assert rows == [("root", "staff_add", "staff:alice"), ("root", "staff_password", "staff:alice"),
                        ("root", "staff_remove", "staff:alice")]  # fmt: skip
        assert all("password_hash" not in str(e.after) for e in audit.latest(s))
        assert s.scalars(select(StaffAccount)).one().active is False


def test_proposal_life_legal_and_illegal_moves(database):
    with database.session() as s:
        ident, item = _member_item(s)
        receipt = item.receipt_no
    with database.session() as s, pytest.raises(StaffError, match="不能执行「录入答复」"):
        review.perform(s, ALICE, receipt, "reply", review.ActionInput(reply="好", grade="A"))
    with database.session() as s, pytest.raises(StaffError, match="必须填写理由"):
        review.perform(s, ALICE, receipt, "decline")
    with database.session() as s:
        assert s.scalars(select(Submission)).one().status == "submitted"  # nothing half-done
        assert review.actions_for(s.scalars(select(Submission)).one()) == ["review", "accept", "decline"]
        review.perform(s, ALICE, receipt, "accept")
    with database.session() as s, pytest.raises(StaffError, match="请填写主办单位"):
        review.perform(s, ALICE, receipt, "assign", review.ActionInput(lead=" "))
    with database.session() as s:
        data = review.ActionInput(lead="市住建局", assisting=["市财政局", "市住建局"], contact="0851-1234")
        review.perform(s, ALICE, receipt, "assign", data)
        with pytest.raises(StaffError, match="等级"):
            review.perform(s, ALICE, receipt, "reply", review.ActionInput(reply="已纳入计划", grade="D"))
    with database.session() as s:
        review.perform(
            s, ALICE, receipt, "reply", review.ActionInput(reply="已纳入2027年改造计划。", grade="b")
        )
        item = review.load(s, receipt)
        assert [a.body for a in review.assignments(s, item)] == ["市住建局", "市财政局"]
        assert [h.to_status for h in item.history] == [
            "submitted", "reviewing", "accepted", "assigned", "handling", "answered"]  # fmt: skip
        reply = s.scalars(select(SubmissionReply)).one()
        assert (reply.grade, reply.staff) == ("B", "alice")
        note = s.scalars(select(Notification).where(Notification.kind == "reply")).one()
        assert "已纳入2027年改造计划。" in note.html
        assert note.buttons[0][0] == {"label": "满意", "data": f"rt:{reply.id}:1"}
        other = identity_for(s, "telegram", "502", "502", "李四")
        assert rate(s, other, str(reply.id), "1")[0].toast == "这份答复已无法评价"  # not their item
        ident = identity_for(s, "telegram", "501", "501")
        assert "满意" in rate(s, ident, str(reply.id), "2")[0].html
        assert rate(s, ident, str(reply.id), "1")[0].toast == "您已评价过这份答复（基本满意）"
        assert (reply.rating, review.load(s, receipt).status) == ("基本满意", "rated")
        review.perform(s, ALICE, receipt, "close")
    with database.session() as s:
        entries = list(reversed(audit.latest(s)))
        assert [(e.action, e.before["status"], e.after["status"]) for e in entries] == [
            ("accept", "submitted", "accepted"), ("assign", "accepted", "assigned"),
            ("reply", "assigned", "answered"), ("close", "rated", "closed")]  # fmt: skip
        assert entries[1].after["lead"] == "市住建局" and entries[1].after["assisting"] == ["市财政局"]
        assert all(e.actor == "alice" and e.target == f"submission:{receipt}" for e in entries)
        statuses = [n.html for n in s.scalars(select(Notification).order_by(Notification.id))]
        # one message per staff action (issue 10): accept, assign, reply (with its status), close; the member's
        # own rating is thanked in the chat, not notified
        assert [next(w for w in ("立案", "交办", "已答复", "办结") if f"<b>{w}</b>" in h) for h in statuses] == [
            "立案", "交办", "已答复", "办结"]  # fmt: skip


def test_decline_with_conversion_and_overdue_reminder(database):
    with database.session() as s:
        accounts.add(s, "root", "bob", "password 22", "staff", "小王", "9100")
        _, item = _member_item(s)
        data = review.ActionInput(reason="属于基层具体事务", convert_to="opinion")
        review.perform(s, ALICE, item.receipt_no, "decline", data)
        new = s.scalars(select(Submission).where(Submission.type == "opinion")).one()
        assert new.receipt_no.startswith("SQ-") and "上下楼困难" in new.fields["situation"]
        s.expire_all()
        assert item.status == "rejected" and "属于基层具体事务" in item.history[-1].reason
        assert new.receipt_no in item.history[-1].reason
    with database.session() as s:
        ident = identity_for(s, "telegram", "501", "501")
        late = submit(s, ident, "proposal", PROPOSAL)
        late.created_at = late.created_at - timedelta(days=100)
        review.perform(s, ALICE, late.receipt_no, "accept")
        with pytest.raises(StaffError, match="尚未交办"):
            overdue.remind(s, ALICE, late.receipt_no)
    with database.session() as s:
        review.perform(s, Staff("bob", "staff", channel="web"), late.receipt_no, "assign",
                       review.ActionInput(lead="市交通局", contact="张科长 0851-1"))  # fmt: skip
        rows = overdue.overdue(s, 90)
        assert [(r.receipt, r.days_over, r.lead) for r in rows] == [(late.receipt_no, 10, "市交通局")]
        assert overdue.overdue(s, 120) == []
        assert overdue.remind(s, ALICE, late.receipt_no) == ["市交通局（张科长 0851-1）", "小王"]
        assert {r.via for r in s.scalars(select(Reminder))} == {"record", "telegram"}
        note = s.scalars(select(Notification).where(Notification.kind == "reminder")).one()
        assert note.chat_id == "9100" and "催办" in note.html
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "remind")).one().actor == "alice"


def test_web_sessions_expire_end_and_die_with_the_account(database):
    from bot.staff import sessions

    with database.session() as s:
        account = accounts.add(s, "root", "carol", "password 33", "staff")
        live, csrf = sessions.start(s, account, hours=1)
        stale, _ = sessions.start(s, account, hours=-1)
    with database.session() as s:
        assert sessions.resolve(s, live) == (Staff("carol", "staff", "carol", "web"), csrf)
        assert sessions.resolve(s, stale) is None and sessions.resolve(s, "forged") is None
        sessions.end(s, live)
        assert sessions.resolve(s, live) is None
        again, _ = sessions.start(s, accounts.get(s, "carol"), hours=1)
        accounts.remove(s, "root", "carol")
        assert sessions.resolve(s, again) is None


def test_staff_commands_in_the_web_chat_are_refused(database):
    from bot.chat.types import ChatRef
    from bot.staff.chat import StaffDesk

    desk = StaffDesk(frozenset({"42"}))
    ref = ChatRef("web", "abc" * 6, "abc" * 6)
    with database.session() as s:
        ident = identity_for(s, "web", ref.user_id, ref.chat_id)
        assert desk.on_command(s, ref, "queue", "")[0].html == "⛔ 此功能仅限工作人员使用。本次尝试已记录。"
        assert desk.on_press(s, ident, ref, "st:a:TA-2026-0001:accept")[0].toast.startswith("⛔")
        assert desk.on_command(s, ref, "help", "") is None and desk.on_press(s, ident, ref, "q:p:1:1") is None
        assert [e.actor for e in audit.latest(s)] == [f"web:{ref.user_id}"] * 2


def test_prompted_values_are_parsed_from_staff_messages():
    from bot.staff.chat import _parse

    assert _parse("reply", "A\n已解决。") == review.ActionInput(grade="A", reply="已解决。")
    assert _parse("reply", "b：正在解决") == review.ActionInput(grade="b", reply="正在解决")
    assert _parse("reply", "App 已上线该功能") == review.ActionInput(
        reply="App 已上线该功能"
    )  # no grade (micro)
    assert _parse("assign", "市住建局\n市财政局、市自然资源局") == review.ActionInput(
        lead="市住建局", assisting=["市财政局", "市自然资源局"])  # fmt: skip
    assert _parse("conv", "属于基层事务") == review.ActionInput(reason="属于基层事务", convert_to="opinion")


def test_two_staff_accepting_at_once_move_the_item_once(database):
    import threading

    from sqlalchemy.exc import OperationalError

    from bot.staff.models import AuditEntry

    with database.session() as s:
        _, item = _member_item(s)
        receipt = item.receipt_no
    barrier, outcomes = threading.Barrier(2), []

    def act(name: str) -> None:
        barrier.wait()
        try:
            with database.session() as s:
                review.perform(s, Staff(name, "staff", channel="web"), receipt, "accept")
            outcomes.append("ok")
        except (StaffError, OperationalError) as exc:  # PostgreSQL: illegal by then; SQLite: a stale snapshot
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=act, args=(n,)) for n in ("a", "b")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes.count("ok") == 1, outcomes
    with database.session() as s:
        assert [h.to_status for h in review.load(s, receipt).history] == [
            "submitted",
            "reviewing",
            "accepted",
        ]
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "accept")).all()) == 1
