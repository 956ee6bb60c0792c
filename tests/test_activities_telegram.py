"""End to end through the Bot API stand-in (issue 13): an activity for one sector, notices, 参加 / 请假 (approved),
no answer and the reminder, a move to another day told once, check-in by code (refused outside the sector), and the
duty records and scores of the four members as the rule table says."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select
from tg_harness import SimMember, all_data, sent

from bot.activities import attendance, jobs, notices, service
from bot.activities.models import Activity
from bot.members.service import create_invitations
from bot.records.models import DutyActivity
from bot.records.scores import member_report, rule_table
from bot.storage.models import Member, utcnow


async def _bind(h, database, user_id: int, name: str, sector: str) -> tuple[SimMember, int]:
    with database.session() as s:
        member = Member(name=name, sector=sector, phone=f"139{user_id:08d}")
        s.add(member)
        s.flush()
        code, member_id = create_invitations(s, phone=member.phone)[0].code, member.id
    sim = SimMember(h, user_id, name)
    assert "绑定" in sent(await sim.command("start", code))[0].params["text"]
    return sim, member_id


def _texts(h, chat_id: int, marker: str) -> list:
    return [c for c in h.api.to_chat(chat_id, "sendMessage") if marker in c.params["text"]]


async def _wait(h, chat_id: int, marker: str, count: int = 1) -> list:
    return await h.api.wait_until(
        lambda: len(_texts(h, chat_id, marker)) >= count and _texts(h, chat_id, marker)
    )


async def test_activity_from_notice_to_score(harness, database, bot_services):
    h = harness
    a, id_a = await _bind(h, database, 3101, "王甲", "经济界")
    b, id_b = await _bind(h, database, 3102, "李乙", "经济界")
    c, id_c = await _bind(h, database, 3103, "赵丙", "经济界")
    d, id_d = await _bind(h, database, 3104, "钱丁", "教育界")
    now = utcnow()
    with database.session() as s:
        act = service.create(
            s, type="全体会议", title="十届三次全体会议", starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=3), place="市政协大礼堂",
            audience=service.make_audience(s, "sectors", ["经济界"]), rsvp_deadline=now + timedelta(days=2),
            attachments=[{"name": "会议议程.pdf"}],
        )  # fmt: skip
        aid, code = act.id, act.checkin_code
        assert notices.send_notices(s, act) == 3
    for member in (a, b, c):
        notice = (await _wait(h, member.id, "活动通知"))[0]
        assert "十届三次全体会议" in notice.params["text"] and "会议议程.pdf" in notice.params["text"]
        assert all_data(notice) == [f"act:y:{aid}", f"act:n:{aid}"]
    assert _texts(h, d.id, "活动通知") == []  # outside the sector: no notice

    # 参加, then Telegram delivers the same press again: nothing is answered or changed
    assert "已登记：您将参加" in sent(await a.press(f"act:y:{aid}"))[0].params["text"]
    with database.session() as s:
        first = service.invitee(s, s.get(Activity, aid), id_a).answered_at
    assert [c for c in await a.redeliver_last() if c.method == "sendMessage"] == []
    with database.session() as s:
        assert service.invitee(s, s.get(Activity, aid), id_a).answered_at == first

    # 请假: a common reason; it waits for staff, who approve it; the member hears back
    ask = sent(await b.press(f"act:n:{aid}"))[0]
    assert "请说明请假原因" in ask.params["text"] and all_data(ask)[0] == f"act:r:{aid}:0"
    assert "工作人员审批后会通知您" in sent(await b.press(f"act:r:{aid}:0"))[0].params["text"]
    with database.session() as s:
        attendance.decide_leave(s, s.get(Activity, aid), id_b, True, "xiaoli", "注意安全")
    assert "注意安全" in (await _wait(h, b.id, "已获批准"))[0].params["text"]

    # moved to another day: every invitee told once (a second run queues nothing)
    with database.session() as s:
        moved, change = service.edit(
            s, aid, starts_at=now + timedelta(hours=20), rsvp_deadline=now + timedelta(hours=10)
        )
        assert notices.send_change(s, moved, change) == 3
        assert notices.send_change(s, moved, change) == 0
        new_when = service.when(moved)
    for member in (a, b, c):
        assert new_when in (await _wait(h, member.id, "活动变更"))[0].params["text"]

    # the day before: only the one who did not answer is reminded, once
    assert jobs.tick(database, reminder_hours=24)["reminded"] == 1
    assert jobs.tick(database, reminder_hours=24)["reminded"] == 0
    await _wait(h, c.id, "活动提醒")
    mine = sent(await c.command("activities"))[0].params["text"]
    assert "十届三次全体会议" in mine and "未回复" in mine

    # the meeting begins: check-in by code; the member of another sector cannot check in
    with database.session() as s:
        row = s.get(Activity, aid)
        row.starts_at, row.ends_at = utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=2)
        row.rsvp_deadline = row.starts_at
    assert (
        "不在「十届三次全体会议」的邀请名单中"
        in sent(await d.command("start", f"act-{code}"))[0].params["text"]
    )
    assert "签到成功" in sent(await a.command("start", f"act-{code}"))[0].params["text"]
    assert "无需重复签到" in sent(await a.command("start", f"act-{code}"))[0].params["text"]

    # it ends: the duty records and the scores follow the rule table
    with database.session() as s:
        row = s.get(Activity, aid)
        row.ends_at = utcnow() - timedelta(minutes=1)
        row.starts_at = row.rsvp_deadline = row.ends_at - timedelta(hours=2)
    jobs.tick(database, reminder_hours=24)
    table = dataclasses.replace(
        rule_table(bot_services.settings.resolved_rules_dir, 2026), year=utcnow().year
    )
    with database.session() as s:
        kinds = {r.member_id: r.attributes for r in s.scalars(select(DutyActivity))}
        assert id_d not in kinds
        scores = {
            m: [(x.rule_id, str(x.points)) for x in member_report(s, m, table).lines]
            for m in (id_a, id_b, id_c)
        }
        assert scores == {id_a: [("HD-01", "2")], id_b: [("HD-04", "0")], id_c: [("HD-05", "-1")]}
        assert member_report(s, id_d, table).lines == ()
    # every invitee got exactly one notice of the move and one notice, whatever was delivered twice
    for member in (a, b, c):
        assert len(_texts(h, member.id, "活动变更")) == 1 and len(_texts(h, member.id, "活动通知")) == 1
    assert len(_texts(h, c.id, "活动提醒")) == 1 and _texts(h, a.id, "活动提醒") == []
