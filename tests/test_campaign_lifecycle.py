"""A whole campaign end to end (SQLite and PostgreSQL): create, broadcast, answers, late answer, close, report, export."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta

import pytest
from botapi_loopback import LoopbackBotAPI
from openpyxl import load_workbook
from sqlalchemy import select, update
from tg_harness import SimMember, all_data, sent
from waiting import until

from bot.campaigns import cli as campaigns_cli
from bot.campaigns.jobs import run_forever
from bot.campaigns.models import Campaign, CampaignDelivery
from bot.campaigns.report import EXPORT_HEADER
from bot.campaigns.service import TIMEZONE
from bot.chat.texts import say
from bot.cli import main as lvzhi
from bot.services import build_services
from bot.storage.models import ChatIdentity, FlowState, Member, Submission, utcnow

SECTORS = {"经济界": 150, "教育界": 100, "医药卫生界": 50}
BLOCKED = {5003, 5010, 5077, 5120, 5249}  # inside the audience (经济界 and 教育界 are chats 5000–5249)
THEMES = {
    "交通": ["建议增加早晚高峰公交班次，缩短候车时间", "建议地铁站与公交站换乘更方便，增加公交接驳线路",
             "建议优化公交线路，开通社区到地铁站的微循环公交", "建议公交站台增加实时到站信息屏，方便候车",
             "建议延长地铁末班车时间，方便夜间下班的市民乘坐公交地铁", "建议增设公交专用道，提高公交准点率",
             "建议在地铁站周边规划公交接驳站", "建议学校周边公交站增加班次，方便学生乘坐公交"],
    "文旅": ["建议打造山地旅游精品线路，带动景区周边民宿发展", "建议景区推出夜游项目，延长游客停留时间",
             "建议整合古镇旅游资源，打造文旅融合景区", "建议景区门票实行淡季优惠，吸引周边游客旅游",
             "建议建设旅游集散中心，串联各个景区", "建议发展乡村旅游民宿，提升景区接待能力",
             "建议举办旅游节庆活动，提升景区知名度", "建议景区完善停车场和旅游厕所等配套设施"],
    "养老": ["建议社区建设养老服务中心，为老人提供日间照料", "建议推广居家养老服务，为独居老人上门助餐",
             "建议增加养老机构床位，缓解老人入住难", "建议社区食堂为老人提供优惠助餐服务",
             "建议培训养老护理人员，提高养老服务质量", "建议老旧小区适老化改造，方便老人出行",
             "建议建立养老服务补贴制度，减轻老人家庭负担", "建议医养结合，在养老机构内设医务室照护老人"],
}  # fmt: skip
FORMULA_ANSWER = '=HYPERLINK("http://example.com","建议公交免费")'


def cli_services(bot_services, **overrides):
    """Services for the CLI over the test's database (the CLI calls build_services())."""
    services = build_services(bot_services.settings.model_copy(update=overrides))
    services.__dict__["db"] = bot_services.db
    return services


async def run_cli(monkeypatch, services, *argv: str) -> int:
    """Run `lvzhi …` in a thread (it runs its own event loop) against the test's services."""
    monkeypatch.setattr(campaigns_cli, "build_services", lambda: services)
    return await asyncio.to_thread(lvzhi, list(argv))


def add_members(database) -> dict[int, str]:
    """300 members bound to Telegram chats 5000…; chat id → sector."""
    sectors: dict[int, str] = {}
    with database.session() as s:
        n = 0
        for sector, count in SECTORS.items():
            for _ in range(count):
                member = Member(name=f"委员{n:03d}", sector=sector, phone=f"139{n:08d}")
                s.add(member)
                s.flush()
                chat = 5000 + n
                s.add(ChatIdentity(channel="telegram", external_id=str(chat), chat_id=str(chat),
                                   member_id=member.id, bound_at=utcnow()))  # fmt: skip
                sectors[chat] = sector
                n += 1
    return sectors


async def answer(m: SimMember, campaign_id: int, category: int, text: str, contact: str | None) -> str:
    """Answer through the invitation button; returns the text of the last reply (the receipt)."""
    intro, prompt = sent(await m.press(f"cmp:{campaign_id}"))[:2]
    assert "征集截止" in intro.params["text"] and all_data(prompt)[0] == "f:c:0"
    await m.press(f"f:c:{category}")
    await m.text(text)
    await (m.text(contact) if contact else m.press("f:k"))
    preview = sent(await m.press("f:d"))[0]
    assert "征集活动" in preview.params["text"] and "f:s" in all_data(preview)
    reply = sent(await m.press("f:s"))[0]
    if (
        "提交成功" not in reply.params["text"]
    ):  # similar answers exist: the office's offer, then submit anyway
        assert "f:s" in all_data(reply)
        reply = sent(await m.press("f:s"))[0]
    return reply.params["text"]


async def test_full_campaign(harness, bot_services, database, monkeypatch, capsys, tmp_path) -> None:
    sectors = add_members(database)
    services = cli_services(bot_services)
    end = (utcnow() + timedelta(days=2)).astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    code = await run_cli(monkeypatch, services, "campaigns", "create", "--title", "我为青川发展献一策",
                         "--description", "围绕交通、文旅、养老提出建议", "--audience", "sectors",
                         "--sector", "经济界,教育界", "--end", end)  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "已创建征集活动 #" in out and "https://t.me/lvzhi_test_bot?start=cmp-" in out
    with database.session() as s:
        campaign = s.scalars(select(Campaign)).one()
        campaign_id = campaign.id
        assert campaign.status == "open" and campaign.audience["sectors"] == ["经济界", "教育界"]

    # broadcast: 250 members of the two sectors; 5 blocked the bot (403); one 429 pauses everyone
    api = LoopbackBotAPI(blocked={str(c) for c in BLOCKED}, flood_every=200, retry_after=1)
    base_url = await api.start()
    try:
        tg = cli_services(bot_services, telegram_base_url=base_url)
        code = await run_cli(monkeypatch, tg, "campaigns", "broadcast", str(campaign_id), "--rate", "300")
        first = capsys.readouterr()
        again = await run_cli(monkeypatch, tg, "campaigns", "broadcast", str(campaign_id), "--rate", "300")
        second = capsys.readouterr()
    finally:
        await api.stop()
    assert code == 0 and again == 0
    assert "共 250 位对象（本次新增 250）" in first.out
    assert "已发送 245，失败 0，已屏蔽机器人 5" in first.out and "] 250/250" in first.err
    assert "本次新增 0" in second.out and "已发送 245" in second.out  # a rerun sends nobody a second copy
    assert api.floods == 1 and len(api.delivered) == 245 and max(api.delivered.values()) == 1
    assert not {c for c in api.delivered if sectors[int(c)] == "医药卫生界"}
    invitation = api.markups["5000"]["inline_keyboard"][0][0]
    assert invitation == {"text": say("btn_campaign_join"), "callback_data": f"cmp:{campaign_id}"}
    assert "我为青川发展献一策" in api.texts["5000"] and "围绕交通" in api.texts["5000"]
    with database.session() as s:
        assert set(s.scalars(select(ChatIdentity.chat_id).where(ChatIdentity.blocked))) == {
            str(c) for c in BLOCKED
        }
        assert s.scalar(select(CampaignDelivery.id).where(CampaignDelivery.state == "sending")) is None

    # members answer through the flow (invitation button), 24 themed answers + one formula-looking answer
    expected: list[tuple[str, int, str, str]] = []  # (theme, chat, sector, category index)
    pool = iter([c for c in range(5140, 5250) if c not in BLOCKED])  # 10 经济界 then 教育界 members
    for i in range(8):
        for theme, texts in THEMES.items():
            chat, category = next(pool), {"交通": 4, "文旅": 0, "养老": 1}[theme]
            contact = "13900001111" if i == 0 else None
            receipt = await answer(SimMember(harness, chat), campaign_id, category, texts[i], contact)
            assert "提交成功" in receipt and "ZJ-" in receipt
            expected.append((theme, chat, sectors[chat], str(category)))
    econ = SimMember(harness, 5001)
    assert "提交成功" in await answer(econ, campaign_id, 5, FORMULA_ANSWER, "@联系我")

    # not in the audience: a 医药卫生界 member and an unbound user get a polite refusal, nothing stored
    outsider = sent(await SimMember(harness, 5299).press(f"cmp:{campaign_id}"))[0].params["text"]
    assert outsider == say(
        "campaign_not_audience", title="我为青川发展献一策", audience="部分界别委员：经济界、教育界"
    )
    stranger = sent(await SimMember(harness, 999001).command("start", f"cmp-{campaign_id}"))[0].params["text"]
    assert "暂不在征集范围内" in stranger
    medic = SimMember(harness, 5298)
    await medic.command("suggest")
    assert sent(await medic.press("f:t:campaign"))[0].params["text"] == say("campaign_none")

    # a late answer: the member is at the preview when the end passes; the closing job has not run yet
    late = SimMember(harness, 5002)
    await late.press(f"cmp:{campaign_id}")
    await late.press("f:c:0")
    await late.text("建议在高铁站设置旅游咨询服务点")
    await late.press("f:k")
    await late.press("f:d")
    with database.session() as s:
        s.execute(update(Campaign).values(ends_at=utcnow() - timedelta(seconds=1)))
    refusal = sent(await late.press("f:s"))[0].params["text"]
    assert "已于" in refusal and "截止，不再接收意见建议" in refusal
    assert "截止" in sent(await SimMember(harness, 5004).press(f"cmp:{campaign_id}"))[0].params["text"]
    with database.session() as s:
        assert s.scalars(select(FlowState).where(FlowState.chat_id == "5002")).first() is None
        assert (
            s.scalar(select(Campaign.status)) == "open"
        )  # still open in the table: the refusal was at answer time
        answers = list(s.scalars(select(Submission).where(Submission.campaign_id == campaign_id)))
    assert len(answers) == 25 and all(a.type == "campaign" for a in answers)
    assert "高铁站" not in " ".join(a.fields["content"] for a in answers)

    # the periodic job of `lvzhi serve` closes the campaign by itself
    job = asyncio.create_task(run_forever(database, 0.05))
    try:

        def closed() -> bool:
            with database.session() as s:
                return s.scalar(select(Campaign.status)) == "closed"

        await until(closed, "the job to close the campaign")
    finally:
        job.cancel()
    with database.session() as s:
        assert s.scalar(select(Campaign.status)) == "closed"

    # report: counts by day, sector, category and theme
    assert (
        await run_cli(monkeypatch, services, "campaigns", "report", str(campaign_id), "--format", "json") == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["total"] == 25 and report["status"] == "已结束"
    assert [n for _, n in report["by_day"]] == [25]
    assert dict(report["by_sector"]) == dict(Counter(s for _, _, s, _ in expected) + Counter({"经济界": 1}))
    names = {"4": "城乡建设", "0": "经济发展", "1": "社会民生"}
    assert dict(report["by_category"]) == dict(Counter(names[c] for *_, c in expected) + Counter({"其他": 1}))
    subject = {text: theme for theme, texts in THEMES.items() for text in texts}
    content = {a["receipt"]: a["content"] for a in report["answers"]}
    big = [t for t in report["themes"] if t["size"] >= 6]
    assert len(big) == 3 and sum(t["size"] for t in report["themes"]) + report["unclustered"] == 25
    found = set()
    for t in big:  # each big theme is one subject: its representatives all come from it
        subjects = {subject.get(content[r["receipt"]]) for r in t["representatives"]}
        assert len(subjects) == 1 and len(t["representatives"]) == 3 and t["label"]
        found |= subjects
    assert found == set(THEMES)
    assert await run_cli(monkeypatch, services, "campaigns", "report", str(campaign_id)) == 0
    text = capsys.readouterr().out
    assert "共收到意见 25 条" in text and "按界别统计" in text and "█" in text and "主题 1：" in text

    # export through the streaming writers: XLSX text cells hold the exact text, never a formula
    out = tmp_path / "answers.xlsx"
    code = await run_cli(monkeypatch, services, "export", "campaign-answers", str(campaign_id),
                         "--format", "xlsx", "--out", str(out))  # fmt: skip
    assert code == 0 and "25 条意见" in capsys.readouterr().out
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == EXPORT_HEADER and len(rows) == 26
    formula = next(r for r in rows if "HYPERLINK" in str(r[5]))
    assert formula[5] == FORMULA_ANSWER and formula[6] == "@联系我" and formula[3] == "经济界"
    cells = [c for row in load_workbook(out).active.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--title", "活动", "--end", "2026-02-30"], "无法识别的时间「2026-02-30」"),
        (["create", "--title", "活动", "--start", "2030-05-02", "--end", "2030-05-01 08:00"], "必须晚于开始时间"),
        (["create", "--title", "活动", "--audience", "sectors", "--sector", "文艺界", "--end", "2030-01-01"],
         "未知的界别「文艺界」"),
        (["create", "--title", "活动", "--audience", "everyone", "--end", "2030-01-01"], "未知的征集对象"),
        (["create", "--title", "  ", "--end", "2030-01-01"], "活动主题不能为空"),
        (["report", "42"], "没有编号为 42 的征集活动"),
        (["close", "x1"], "活动编号应为数字"),
        (["broadcast", "7"], "没有编号为 7 的征集活动"),
    ],
)  # fmt: skip
async def test_cli_errors_are_chinese_not_tracebacks(
    bot_services, monkeypatch, capsys, argv, message
) -> None:
    with bot_services.db.session() as s:
        s.add(Member(name="王五", sector="经济界", phone="1"))
    code = await run_cli(monkeypatch, bot_services, "campaigns", *argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


async def test_public_link_open_close_and_payloads(
    harness, bot_services, database, monkeypatch, capsys
) -> None:
    assert await run_cli(monkeypatch, bot_services, "campaigns", "create", "--title", "年度协商计划选题征集",
                         "--audience", "public", "--start", "2020-01-01", "--end", "2099-12-31") == 0  # fmt: skip
    out = capsys.readouterr().out
    with database.session() as s:
        campaign_id = s.scalar(select(Campaign.id))
    link = f"https://t.me/lvzhi_test_bot?start=cmp-{campaign_id}"
    assert link in out and f"http://127.0.0.1:8000/?start=cmp-{campaign_id}" in out
    assert len(f"cmp-{campaign_id:012d}".encode()) <= 64 and len(f"cmp:{campaign_id:012d}".encode()) <= 64
    guest = SimMember(harness, 880001, "路人")  # unbound user through the deep link
    calls = sent(await guest.command("start", f"cmp-{campaign_id}"))
    assert "年度协商计划选题征集" in calls[0].params["text"] and all_data(calls[1])[0] == "f:c:0"
    await guest.press("f:c:1")
    await guest.text("建议把老旧小区加装电梯列入年度协商选题")
    await guest.press("f:k")
    await guest.press("f:d")
    assert "提交成功" in sent(await guest.press("f:s"))[0].params["text"]
    # staff close it now: the picker no longer offers it, the link is refused
    assert await run_cli(monkeypatch, bot_services, "campaigns", "close", str(campaign_id)) == 0
    assert "已结束" in capsys.readouterr().out
    assert "截止" in sent(await guest.command("start", f"cmp-{campaign_id}"))[0].params["text"]
    await guest.command("suggest")
    assert "目前没有" in sent(await guest.press("f:t:campaign"))[0].params["text"]
    # and reopen it with a new end
    assert await run_cli(monkeypatch, bot_services, "campaigns", "open", str(campaign_id)) == 2
    assert "--until" in capsys.readouterr().err
    assert (
        await run_cli(
            monkeypatch, bot_services, "campaigns", "open", str(campaign_id), "--until", "2099-01-01"
        )
        == 0
    )
    await guest.command("suggest")
    assert all_data(sent(await guest.press("f:t:campaign"))[0])[0] == "f:a:0"
    assert await run_cli(monkeypatch, bot_services, "campaigns", "list") == 0
    assert "进行中\t年度协商计划选题征集\t公开征集（链接）" in capsys.readouterr().out
    with database.session() as s:
        item = s.scalars(select(Submission)).one()
        assert (item.campaign_id, item.member_id, item.category) == (campaign_id, None, "社会民生")
