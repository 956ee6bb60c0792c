"""Issue 10 for members on Telegram: 「查看整节」 under a passage, votes marked on the answer's keyboard, and the
command menu in the member's script (a per-chat Traditional menu).

The real python-telegram-bot Application polls the Bot API stand-in (tests/tg_standin.py); real answerer, real index,
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re

import cn2an
import pytest
from sqlalchemy import select
from tg_harness import Harness, SimMember, sent
from tg_standin import html_errors

from bot.chat.section import whole_section_html
from bot.prompts import render_for
from bot.storage.models import QALog

TOPICS = ["调研", "视察", "协商座谈", "专题议政", "民主监督", "提案办理协商", "界别活动", "联系群众", "学习培训", "社情民意征集"]  # fmt: skip
LONG_CHAPTER = [  # 第二章 of a document whose section is longer than one Telegram message
    f"第{cn2an.an2cn(i)}条 委员参加{TOPICS[i % len(TOPICS)]}活动，应当按照办公室的安排提前报名，"
    f"按时到达指定地点，认真听取情况介绍，深入了解实际问题；活动结束后{i}个工作日内，"
    f"委员应当向办公室提交书面意见和建议，办公室负责汇总整理并及时反馈给有关部门，"
    f"有关部门应当认真研究办理，并将办理情况告知委员本人。委员因故不能参加的，应当事先书面请假。"
    for i in range(2, 34)
]
LONG_RULES = (
    "青川市政协委员履职活动规则\n\n第一章 总则\n\n第一条 为了规范委员履职活动，制定本规则。\n\n"
    "第二章 履职活动\n\n" + "\n\n".join(LONG_CHAPTER) + "\n"
)


def plain(text: str) -> str:
    """The characters a member reads: tags dropped, entities decoded, line breaks dropped (a cut drops one)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\n", "")


def quotes(text: str) -> list[str]:
    """The blockquoted texts of a message (the document's own words), entities decoded."""
    return [html.unescape(q) for q in re.findall(r"<blockquote>(.*?)</blockquote>", text, flags=re.S)]


async def ask(member: SimMember, database, question: str):
    """Ask a question; (the answer's sendMessage call, its QALog row)."""
    answer = [c for c in sent(await member.text(question)) if "q:v:" in str(c.params.get("reply_markup"))][0]
    with database.session() as s:
        row = s.scalars(
            select(QALog).where(QALog.chat_id == str(member.id)).order_by(QALog.id.desc())
        ).first()
    return answer, row


async def test_whole_section_is_the_documents_words_and_only_for_the_asker(harness, database):
    from bot_fixtures import PROPOSAL_RULES

    member = SimMember(harness, 5101, "王委员")
    answer, row = await ask(member, database, "提案可以反映几个问题？")
    passage = sent(await member.press(f"q:p:{row.id}:1"))[0]
    assert passage.buttons == [[("📖 查看整节", f"q:w:{row.id}:1")]]  # a Simplified member: no 繁體閱讀
    calls = sent(await member.press(f"q:w:{row.id}:1"))
    assert len(calls) == 1
    text = calls[0].params["text"]
    expected = whole_section_html(harness.services.knowledge, row.citations[0]["chunk_id"], False)
    assert text == expected  # the very words the web chat's /api/section shows for this passage
    assert text.startswith("📖 《青川市政协提案工作条例》第二章 提案的提出（全节原文）")
    found = quotes(text)
    assert [q.split()[0] for q in found] == ["第五条", "第六条", "第十二条"]  # the section, in document order
    assert all(q in PROPOSAL_RULES for q in found)  # exact substrings of the document
    assert "第一条" not in text  # another section
    stranger = SimMember(harness, 5102, "路人")
    toast = await stranger.press(f"q:w:{row.id}:1")
    assert [(c.method, c.params.get("text")) for c in toast] == [("answerCallbackQuery", "该按钮已失效")]
    with database.session() as s:  # the passage's chunk is gone from the knowledge base (a document removed)
        gone = s.get(QALog, row.id)
        gone.citations = [{**gone.citations[0], "chunk_id": "docs/已删除.txt#0"}, *gone.citations[1:]]
    toast = await member.press(f"q:w:{row.id}:1")
    assert [(c.method, c.params.get("text")) for c in toast] == [
        ("answerCallbackQuery", "这段条文已不在知识库中，无法显示整节。")
    ]


@pytest.fixture(scope="module")
def long_services_base(tmp_path_factory, embeddings):
    """Services over an index holding LONG_RULES (ingested once for the module)."""
    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings

    root = tmp_path_factory.mktemp("long_kb")
    (root / "docs").mkdir()
    (root / "docs" / "履职活动规则.txt").write_text(LONG_RULES, encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=root / "data", index_dir=root / "index")
    ingest_paths([root / "docs"], settings, progress=False, embeddings=embeddings)
    base = build_services(settings)
    _ = base.answerer, base.knowledge
    return base


@pytest.fixture
async def long_harness(long_services_base, database, tmp_path):
    """The real Application over the long document's index and the test's database."""
    from bot.services import build_services

    settings = long_services_base.settings.model_copy(
        update={"data_dir": tmp_path / "data", "database_url": database.url, "telegram_token": "123456:TEST",
                "telegram_rate_limit": False, "notify_interval_s": 0.05, "flood_max_events": 1000,
                "telegram_retry_base_s": 0.01}
    )  # fmt: skip
    services = build_services(settings)
    services.__dict__.update(
        db=database, answerer=long_services_base.answerer, knowledge=long_services_base.knowledge
    )
    h = Harness(services)
    await h.start()
    yield h
    await h.stop()
    assert h.api.problems == [], h.api.problems


async def test_long_whole_section_arrives_split_and_whole(long_harness, database):
    member = SimMember(long_harness, 5201, "赵委员")
    answer, row = await ask(member, database, "委员参加视察活动需要提前报名吗？")
    cited = [n for n, c in enumerate(row.citations, 1) if c["section"].startswith("第二章")]
    assert cited, row.citations
    calls = sent(await member.press(f"q:w:{row.id}:{cited[0]}"))
    whole = whole_section_html(
        long_harness.services.knowledge, row.citations[cited[0] - 1]["chunk_id"], False
    )
    assert len(plain(whole)) > 4096 and len(calls) >= 2  # longer than one message: several messages
    for c in calls:
        assert html_errors(c.params["text"]) == []  # each within 4,096 and valid HTML: no tag or entity cut
    joined = "".join(plain(c.params["text"]) for c in calls)
    assert joined == plain(whole)
    assert all(
        a in joined for a in LONG_CHAPTER
    )  # every article of the section, whole and in the document's words
    positions = [joined.index(a) for a in LONG_CHAPTER]
    assert positions == sorted(positions) and "第一条 为了规范" not in joined


async def test_votes_mark_the_chosen_button_and_the_last_vote_counts(harness, database):
    member = SimMember(harness, 5301, "钱委员")
    answer, row = await ask(member, database, "提案可以反映几个问题？")
    assert answer.buttons[-1] == [("👍", f"q:v:{row.id}:1"), ("👎", f"q:v:{row.id}:-1")]
    calls = await member.press(f"q:v:{row.id}:1", message_id=4242)
    edits = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert len(edits) == 1 and edits[0].params["message_id"] == 4242 and edits[0].params["chat_id"] == 5301
    assert edits[0].buttons == [
        [("📄 原文1", f"q:p:{row.id}:1")],
        [("✓👍 有帮助", f"q:v:{row.id}:1"), ("👎", f"q:v:{row.id}:-1")],
    ]
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == ["感谢您的肯定！"]
    with database.session() as s:
        assert s.get(QALog, row.id).vote == 1
    calls = await member.press(f"q:v:{row.id}:-1", message_id=4242)
    edits = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert edits[0].buttons[-1] == [("👍", f"q:v:{row.id}:1"), ("✓👎 没帮助", f"q:v:{row.id}:-1")]
    with database.session() as s:
        assert s.get(QALog, row.id).vote == -1
    stranger = SimMember(harness, 5302, "路人")
    calls = await stranger.press(f"q:v:{row.id}:1", message_id=4242)
    assert [c.method for c in calls] == ["answerCallbackQuery"]  # no edit of someone else's answer
    with database.session() as s:
        assert s.get(QALog, row.id).vote == -1


def _menus(harness, chat_id: int, method: str = "setMyCommands") -> list[dict]:
    return [
        c.params
        for c in harness.api.calls
        if c.method == method and str((c.params.get("scope") or {}).get("chat_id")) == str(chat_id)
    ]


async def test_traditional_member_gets_traditional_buttons_and_own_menu(harness, database):
    member = SimMember(harness, 5401, "陳委員")
    answer, row = await ask(member, database, "提案審查要在多少個工作日內完成？")
    menus = _menus(harness, 5401)
    assert len(menus) == 1 and menus[0]["scope"] == {"type": "chat", "chat_id": 5401}
    commands = [(c["command"], c["description"]) for c in menus[0]["commands"]]
    names = ["start", "suggest", "mine", "record", "activities", "cancel", "help"]
    assert commands == [(c, render_for(f"replies/cmd_{c}", True)) for c in names]
    assert ("start", "開始 / 綁定委員身份") in commands
    glob = [c.params for c in harness.api.calls if c.method == "setMyCommands" and not c.params.get("scope")]
    assert ("start", "开始 / 绑定委员身份") in [
        (c["command"], c["description"]) for c in glob[-1]["commands"]
    ]

    passage = sent(await member.press(f"q:p:{row.id}:1"))[0]
    assert passage.buttons == [[("繁體閱讀", f"q:t:{row.id}:1")], [("📖 查看整節", f"q:w:{row.id}:1")]]
    section = sent(await member.press(f"q:w:{row.id}:1"))[0].params["text"]
    assert section.startswith(
        "📖 《青川市政协提案工作条例》第二章 提案的提出（全節原文）"
    )  # title: the document's
    assert "第十二条 提案审查应当在收到提案后十五个工作日内完成" in quotes(section)[-1]  # quote: as written
    edit = [c for c in await member.press(f"q:v:{row.id}:1") if c.method == "editMessageReplyMarkup"][0]
    assert edit.buttons[-1] == [("✓👍 有幫助", f"q:v:{row.id}:1"), ("👎", f"q:v:{row.id}:-1")]

    await member.command("start")  # /start gives a Traditional member their menu again (e.g. after a reset)
    assert len(_menus(harness, 5401)) == 2
    await member.text(
        "提案审查的结果怎么告知？"
    )  # one of each, the latest Simplified: back to the global menu
    deleted = _menus(harness, 5401, "deleteMyCommands")
    assert len(deleted) == 1 and deleted[0]["scope"] == {"type": "chat", "chat_id": 5401}
    await member.text("提案人對審查結果有異議怎麼辦？")  # Traditional again: their own menu again
    assert len(_menus(harness, 5401)) == 3 and len(_menus(harness, 5401, "deleteMyCommands")) == 1


async def test_simplified_member_gets_no_menu_of_their_own(harness, database):
    member = SimMember(harness, 5501, "孙委员")
    await ask(member, database, "提案审查要在多少个工作日内完成？")
    await member.command("start")
    await member.text("联名提案的第一提案人负责什么？")
    assert _menus(harness, 5501) == [] and _menus(harness, 5501, "deleteMyCommands") == []


async def test_traditional_staff_member_keeps_the_staff_commands(harness, database):
    from bot.staff import accounts

    with database.session() as s:
        accounts.add(s, "admin", "xiaochen", "staff password", "staff", "陳幹部", "5601")
    staff = SimMember(harness, 5601, "陳幹部")
    await staff.text("聯名提案的第一提案人負責什麼？")
    menus = _menus(harness, 5601)
    assert len(menus) == 1
    assert [(c["command"], c["description"]) for c in menus[0]["commands"]][-2:] == [
        ("queue", "審查隊列（工作人員）"),
        ("reg", "查條文原文（工作人員）"),
    ]
    await staff.text("联名提案的第一提案人负责什么？")  # Simplified again: their staff menu in Simplified
    menus = _menus(harness, 5601)
    assert len(menus) == 2 and _menus(harness, 5601, "deleteMyCommands") == []
    assert [(c["command"], c["description"]) for c in menus[1]["commands"]][-2:] == [
        ("queue", "审查队列（工作人员）"),
        ("reg", "查条文原文（工作人员）"),
    ]
