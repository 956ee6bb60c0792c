"""Duty activities (issue 13): create/edit/cancel, notices once, answers and leave, check-in, the duty record."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.activities import attendance, jobs, notices, service
from bot.activities.models import Activity, ActivityInvitee
from bot.chat import script
from bot.chat.assistant import Assistant
from bot.chat.types import ChatRef, Event
from bot.records.models import DutyActivity
from bot.records.scores import member_report, rule_table
from bot.settings import Settings
from bot.storage.models import ChatIdentity, Member, Notification, utcnow

RULES_DIR = Settings(_env_file=None).resolved_rules_dir


def _members(s) -> dict[str, Member]:
    rows = [
        Member(name="甲", sector="经济界", phone="1"),
        Member(name="乙", sector="经济界", phone="2"),
        Member(name="丙", sector="经济界", phone="3"),
        Member(name="丁", sector="教育界", phone="4"),
    ]
    s.add_all(rows)
    s.flush()
    for m in rows:
        s.add(ChatIdentity(channel="telegram", external_id=str(m.id), chat_id=f"c{m.id}", member_id=m.id))
    s.flush()
    return {m.name: m for m in rows}


def _writes_traditional(s, m: Member) -> None:
    ident = s.scalar(select(ChatIdentity).where(ChatIdentity.member_id == m.id))
    script.remember(ident, "請問會議在哪裡舉行？")
    s.flush()


def _activity(s, **kw) -> Activity:
    now = utcnow()
    args = dict(
        type="全体会议", title="十届三次全体会议", starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=3), place="市政协大礼堂",
        audience=service.make_audience(s, "sectors", ["经济界"]), rsvp_deadline=now + timedelta(days=1),
        leave_needs_approval=True, created_by="xiaoli",
    )  # fmt: skip
    args.update(kw)
    return service.create(s, **args)


def _notes(s, chat_id: str) -> list[Notification]:
    return list(
        s.scalars(select(Notification).where(Notification.chat_id == chat_id).order_by(Notification.id))
    )


def test_types_file_and_bad_input(tmp_path, database):
    assert "全体会议" in service.load_types() and "专题协商会" in service.load_types()
    (tmp_path / "t.txt").write_text("# 只有注释\n\n", encoding="utf-8")
    with pytest.raises(service.ActivityError, match="没有任何类型"):
        service.load_types(tmp_path / "t.txt")
    with database.session() as s:
        _members(s)
        with pytest.raises(service.ActivityError, match="未知的活动类型「茶话会」"):
            _activity(s, type="茶话会")
        with pytest.raises(service.ActivityError, match="未知的界别「农业界」"):
            service.make_audience(s, "sectors", ["农业界"])
        with pytest.raises(service.ActivityError, match="回复截止时间"):
            _activity(s, rsvp_deadline=utcnow() + timedelta(days=3))
        with pytest.raises(service.ActivityError, match="未知的专门委员会"):
            service.make_audience(s, "committees", ["提案委员会"])


def test_audiences_notices_once_and_change_once(database):
    with database.session() as s:
        m = _members(s)
        service.set_committees(s, m["丁"].id, ["提案委员会"])
        by_committee = _activity(s, audience=service.make_audience(s, "committees", ["提案委员会"]))
        chosen = _activity(s, audience=service.make_audience(s, "chosen", ["甲", "4"]))
        assert service.invited_ids(s, by_committee) == {m["丁"].id}
        assert service.invited_ids(s, chosen) == {m["甲"].id, m["丁"].id}
        a = _activity(s)
        assert notices.send_notices(s, a) == 3
        assert notices.send_notices(s, a) == 0  # a second run queues nothing
        note = _notes(s, f"c{m['甲'].id}")[-1]
        assert "十届三次全体会议" in note.html and "市政协大礼堂" in note.html
        assert [b["data"] for b in note.buttons[0]] == [f"act:y:{a.id}", f"act:n:{a.id}"]
        assert _notes(s, f"c{m['丁'].id}") == [] or all(
            "十届三次" not in n.html for n in _notes(s, f"c{m['丁'].id}")
        )
        new_start = a.starts_at + timedelta(days=1)
        a, change = service.edit(s, a.id, starts_at=new_start)
        assert change.moved and a.version == 2 and a.ends_at - a.starts_at == timedelta(hours=3)
        assert notices.send_change(s, a, change) == 3
        assert notices.send_change(s, a, change) == 0
        moved = _notes(s, f"c{m['乙'].id}")[-1].html
        assert "时间改为" in moved and service.local(new_start) in moved
        a, change = service.edit(s, a.id, description="请提前十分钟到场")
        assert not change.moved and notices.send_change(s, a, change) == 0
        service.cancel(s, a.id)
        assert notices.send_cancel(s, a, "会期调整") == 3
        assert "会期调整" in _notes(s, f"c{m['丙'].id}")[-1].html
        with pytest.raises(service.ActivityError, match="已经取消"):
            service.cancel(s, a.id)


def test_traditional_member_gets_traditional_notice(database):
    with database.session() as s:
        m = _members(s)
        _writes_traditional(s, m["甲"])  # the member's messages were in Traditional
        a = _activity(s)
        notices.send_notices(s, a)
        trad = _notes(s, f"c{m['甲'].id}")[-1]
        simp = _notes(s, f"c{m['乙'].id}")[-1]
        assert "活動通知" in trad.html and "活动通知" in simp.html
        assert "十届三次全体会议" in trad.html  # the staff's own title is not converted
        assert [b["label"] for b in trad.buttons[0]] == ["參加", "請假"]


def _ref(m: Member) -> ChatRef:
    return ChatRef("telegram", f"c{m.id}", str(m.id))


def test_attendance_into_duty_record_by_rule_table(database):
    assistant = Assistant(database, answerer=None)
    with database.session() as s:
        m = _members(s)
        a = _activity(s)
        aid, code, ids = a.id, a.checkin_code, {k: v.id for k, v in m.items()}
        refs = {k: _ref(v) for k, v in m.items()}
    assistant.handle(refs["甲"], Event("press", f"act:y:{aid}", update_key="u1"))
    assert assistant.handle(refs["甲"], Event("press", f"act:y:{aid}", update_key="u1")) == []  # redelivered
    again = assistant.handle(refs["甲"], Event("press", f"act:y:{aid}", update_key="u2"))
    assert "无需重复" in again[0].html
    ask = assistant.handle(refs["乙"], Event("press", f"act:n:{aid}", update_key="u3"))
    assert "请假原因" in ask[0].html and ask[0].buttons[0][0].data == f"act:r:{aid}:0"
    typed = assistant.handle(refs["乙"], Event("text", "在外地参加培训", update_key="u4"))
    assert "工作人员审批后" in typed[0].html
    outside = assistant.handle(refs["丁"], Event("command", "start", f"act-{code}", update_key="u5"))
    assert "不在「十届三次全体会议」的邀请名单中" in outside[0].html
    early = assistant.handle(refs["甲"], Event("command", "start", f"act-{code}", update_key="u6"))
    assert "签到" in early[0].html and "开始" in early[0].html
    with database.session() as s:
        a = s.get(Activity, aid)
        inv = service.invitee(s, a, ids["乙"])
        assert (inv.answer, inv.leave_reason, inv.leave_state) == ("leave", "在外地参加培训", "pending")
        attendance.decide_leave(s, a, ids["乙"], True, "xiaoli", "同意")
        decision = _notes(s, f"c{ids['乙']}")[-1]
        assert "已获批准" in decision.html and "同意" in decision.html and not decision.buttons
        # the activity starts now: check-in opens
        a.starts_at, a.ends_at = utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=2)
        a.rsvp_deadline = a.starts_at
    ok = assistant.handle(refs["甲"], Event("command", "start", f"act-{code}", update_key="u7"))
    assert "签到成功" in ok[0].html
    twice = assistant.handle(refs["甲"], Event("command", "start", f"act-{code}", update_key="u8"))
    assert "无需重复签到" in twice[0].html
    late_answer = assistant.handle(refs["丙"], Event("press", f"act:y:{aid}", update_key="u9"))
    assert "截止时间" in late_answer[0].html
    with database.session() as s:
        a = s.get(Activity, aid)
        a.ends_at = utcnow() - timedelta(minutes=1)
        a.starts_at = a.rsvp_deadline = a.ends_at - timedelta(hours=2)
    assert jobs.tick(database)["recorded"] == 3
    assert jobs.tick(database)["recorded"] == 3  # idempotent: rows kept, none added
    # the example table (rules/scoring/2026.csv) applied to this year's dates
    table = dataclasses.replace(rule_table(RULES_DIR, 2026), year=utcnow().year)
    with database.session() as s:
        rows = {
            r.member_id: r for r in s.scalars(select(DutyActivity).where(DutyActivity.kind == "duty_event"))
        }
        assert set(rows) == {ids["甲"], ids["乙"], ids["丙"]}
        assert rows[ids["甲"]].attributes == {"attended": True, "excused": False, "meeting_type": "全体会议"}
        assert rows[ids["乙"]].attributes["excused"] is True
        assert rows[ids["丙"]].attributes == {"attended": False, "excused": False, "meeting_type": "全体会议"}
        lines = {k: member_report(s, ids[k], table).lines for k in ("甲", "乙", "丙")}
        assert [(x.rule_id, str(x.points)) for x in lines["甲"]] == [("HD-01", "2")]
        assert [(x.rule_id, str(x.points)) for x in lines["乙"]] == [("HD-04", "0")]
        assert [(x.rule_id, str(x.points)) for x in lines["丙"]] == [("HD-05", "-1")]
        assert s.scalar(select(func.count()).select_from(ActivityInvitee)) == 3


def test_call_for_opinions_after_the_activity(database):
    from bot.activities.opinions import open_call
    from bot.campaigns.models import Campaign

    assistant = Assistant(database, answerer=None)
    with database.session() as s:
        m = _members(s)
        a = _activity(s)
        with pytest.raises(service.ActivityError, match="开始后才能征集意见"):
            open_call(s, a, utcnow() + timedelta(days=7), "xiaoli")
        a.starts_at, a.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
        a.rsvp_deadline = a.starts_at
        campaign, queued = open_call(s, a, utcnow() + timedelta(days=7), "xiaoli")
        assert queued == 3 and a.campaign_id == campaign.id
        assert (campaign.title, campaign.audience["kind"], campaign.audience["sectors"], campaign.status) == (
            "十届三次全体会议意见征集", "sectors", ["经济界"], "open")  # fmt: skip
        with pytest.raises(service.ActivityError, match="已开启意见征集"):
            open_call(s, a, utcnow() + timedelta(days=7), "xiaoli")
        invite = _notes(s, f"c{m['甲'].id}")[-1]
        assert "意见征集" in invite.html and invite.buttons == [
            [{"label": "提出意见", "data": f"cmp:{campaign.id}"}]
        ]
        assert all("意见征集" not in n.html for n in _notes(s, f"c{m['丁'].id}"))
        cid, ref = campaign.id, _ref(m["甲"])
    started = assistant.handle(ref, Event("press", f"cmp:{cid}", update_key="o1"))
    assert "十届三次全体会议意见征集" in started[0].html
    with database.session() as s:
        assert s.get(Campaign, cid).created_by == "xiaoli"


def test_traditional_replies_returned_leave_and_change_of_answer(database):
    assistant = Assistant(database, answerer=None)
    with database.session() as s:
        m = _members(s)
        _writes_traditional(s, m["甲"])  # the member's messages were in Traditional
        a = _activity(s)
        aid, ids = a.id, {k: v.id for k, v in m.items()}
        refs = {k: _ref(v) for k, v in m.items()}
    ask = assistant.handle(refs["甲"], Event("press", f"act:n:{aid}"))
    assert "請說明請假原因" in ask[0].html
    pending = assistant.handle(refs["甲"], Event("press", f"act:r:{aid}:1"))
    assert "請假申請已提交" in pending[0].html and "工作冲突" in pending[0].html  # the reason as stored
    with database.session() as s:
        a = s.get(Activity, aid)
        attendance.decide_leave(s, a, ids["甲"], False, "xiaoli", "全体会议原则上不准假")
        inv = service.invitee(s, a, ids["甲"])
        assert (inv.answer, inv.leave_state) == ("none", "returned")
        back = _notes(s, f"c{ids['甲']}")[-1]
        assert "請假申請被退回" in back.html  # in the member's script
        assert "全体会议原则上不准假" in back.html and back.buttons[0][0]["data"] == f"act:y:{aid}"
        assert notices.unanswered(s, a) == [ids["甲"], ids["乙"], ids["丙"]]
        with pytest.raises(service.ActivityError, match="没有待审批"):
            attendance.decide_leave(s, a, ids["甲"], True, "xiaoli")
    listed = assistant.handle(refs["甲"], Event("command", "activities"))
    assert "請假被退回" in listed[0].html and listed[0].buttons[0][0].data == f"act:y:{aid}"
    assistant.handle(refs["甲"], Event("press", f"act:y:{aid}"))
    with database.session() as s:
        inv = service.invitee(s, s.get(Activity, aid), ids["甲"])
        assert (inv.answer, inv.leave_state, inv.leave_reason) == ("attend", "", "")
    # a question typed while a reason is awaited is taken as the reason only in that chat; other chats ask freely
    assistant.handle(refs["乙"], Event("press", f"act:n:{aid}"))
    too_long = assistant.handle(refs["乙"], Event("text", "因" * 201))
    assert "最多 200 字" in too_long[0].html
    ok = assistant.handle(refs["乙"], Event("text", "外出调研"))
    assert "请假申请已提交" in ok[0].html


def test_edit_type_and_moving_an_ended_activity_drops_its_absences(database):
    with database.session() as s:
        _members(s)
        a = _activity(s)
        a.starts_at, a.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
        a.rsvp_deadline = a.starts_at
        assert attendance.sync_records(s, a) == 3
        a, change = service.edit(
            s, a.id, type="常委会议", types=service.load_types(), starts_at=utcnow() + timedelta(days=1),
            rsvp_deadline=utcnow() + timedelta(hours=12),
        )  # fmt: skip
        assert change.describe() == "时间、回复截止、类型" or set(change.fields) == {
            "time",
            "deadline",
            "type",
        }
        assert a.type == "常委会议" and change.moved
        assert attendance.sync_records(s, a) == 0
        assert s.scalar(select(func.count()).select_from(DutyActivity)) == 0
        with pytest.raises(service.ActivityError, match="未知的活动类型「茶话会」"):
            service.edit(s, a.id, type="茶话会", types=service.load_types())


def test_cli(database, monkeypatch, capsys, make_settings, tmp_path):
    from openpyxl import load_workbook

    from bot.activities import cli as activities_cli
    from bot.cli import main as lvzhi
    from bot.services import build_services

    services = build_services(make_settings(data_dir=tmp_path / "data"))
    services.__dict__["db"] = database
    monkeypatch.setattr(activities_cli, "build_services", lambda: services)
    with database.session() as s:
        _members(s)
    start = (utcnow() + timedelta(days=5)).astimezone(service.campaign_service.TIMEZONE)
    args = ["activities", "create", "--type", "视察", "--title", "重点项目视察", "--start", f"{start:%Y-%m-%d} 09:00",
            "--end", f"{start:%Y-%m-%d} 12:00", "--place", "高新区", "--audience", "chosen", "--to", "甲、丁"]  # fmt: skip
    assert lvzhi(args[:3] + ["茶话会"] + args[4:]) == 2
    assert "错误：未知的活动类型「茶话会」" in capsys.readouterr().err
    assert lvzhi(args) == 0
    assert "邀请 2 人，已排队通知 2 人" in capsys.readouterr().out
    with database.session() as s:
        aid = s.scalar(select(Activity.id))
    assert lvzhi(["activities", "attend", str(aid), "丁", "--by", "xiaoli"]) == 0
    assert lvzhi(["activities", "show", str(aid)]) == 0
    shown = capsys.readouterr().out
    assert "邀请范围：指定委员：2 位" in shown and "出席 1" in shown and "未回复 2" in shown
    out = tmp_path / "a.xlsx"
    assert lvzhi(["activities", "export", str(aid), "--format", "xlsx", "--out", str(out)]) == 0
    rows = [[c.value for c in r] for r in load_workbook(out).active.iter_rows()]
    assert [(r[1], r[10]) for r in rows[1:]] == [("甲", "未签到"), ("丁", "出席")]
    assert lvzhi(["activities", "leave", str(aid), "甲", "approve"]) == 2
    assert "没有待审批的请假申请" in capsys.readouterr().err


def test_a_member_without_a_chat_gets_the_notice_once_bound(database):
    with database.session() as s:
        m = _members(s)
        late = Member(name="戊", sector="经济界", phone="5")
        s.add(late)
        s.flush()
        a = _activity(s)
        assert notices.send_notices(s, a) == 3  # 戊 has no chat yet
        s.add(ChatIdentity(channel="web", external_id="w5", chat_id="w5", member_id=late.id))
        s.flush()
        assert notices.send_notices(s, a) == 1 and notices.send_notices(s, a) == 0
        assert "十届三次全体会议" in _notes(s, "w5")[-1].html
        assert len(_notes(s, f"c{m['甲'].id}")) == 1
