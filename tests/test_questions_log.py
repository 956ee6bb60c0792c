"""The questions log (issue 11 item 2): every question of every channel with its answer, decision, cited passages,
vote and time; filters, keyset paging, CSV/XLSX export, the knowledge gaps view, and who may see them — on SQLite and
PostgreSQL, with the real answerer over the sample regulations."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests
from openpyxl import load_workbook
from questions_fixtures import csrf_of, staff_login
from sqlalchemy import select
from web_fixtures import serve_web_app

from bot.answering.official import TermWeights
from bot.chat.types import ChatRef, Event
from bot.members.service import identity_for
from bot.staff import accounts, official, questions
from bot.storage.models import Member, QALog, QASource, utcnow
from bot.suggestions.service import TIMEZONE

ANSWERED = "提案审查要在多少个工作日内完成？"
DECLINED = "委员证丢了怎么补办？"


def _ask(services, channel: str, user: str, text: str) -> dict:
    ref = ChatRef(channel, user, user, "委员")
    return services.assistant.handle(ref, Event("text", text))[0].meta


def _member_chat(database, user: str) -> None:
    with database.session() as s:
        m = Member(name="王委员", sector="经济界", phone="13800000001")
        s.add(m)
        s.flush()
        identity_for(s, "web", user, user).member_id = m.id


def test_log_rows_filters_and_paging(desk, database):
    member = "member-web-1" * 2
    _member_chat(database, member)
    answered = _ask(desk, "web", member, ANSWERED)
    declined = _ask(desk, "telegram", "42", DECLINED)
    assert answered["decision"] == "answer" and declined["decision"] == "decline"
    _ask(desk, "web", member, "社情民意信息的篇幅一般不超过多少字？")
    desk.assistant.handle(
        ChatRef("web", member, member, "委员"), Event("press", f"q:v:{answered['qa_id']}:-1")
    )
    with database.session() as s:
        rows, more = questions.page(s, questions.LogFilter())
        assert more is None and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
        first = next(r for r in rows if r.id == answered["qa_id"])
        assert (first.channel, first.who, first.decision, first.vote) == ("web", "王委员", "answer", -1)
        assert first.ms > 0 and first.question == ANSWERED and "十五个工作日" in first.answer
        doc = first.citations[0]["doc"]
        assert doc.endswith("提案工作条例.txt")
        assert first.citations[0]["link"] == f"/staff/docs/find?doc={quote(doc, safe='')}#art-12"
        guest = next(r for r in rows if r.id == declined["qa_id"])
        assert (guest.channel, guest.who, guest.decision, guest.citations) == ("telegram", "", "decline", [])

        def ids(**kw) -> list[int]:
            return [r.id for r in questions.page(s, questions.LogFilter(**kw))[0]]

        assert ids(declined=True) == [declined["qa_id"]]
        assert ids(voted_down=True) == [answered["qa_id"]]
        assert ids(channel="telegram") == [declined["qa_id"]]
        assert ids(decision="answer") == [r.id for r in rows if r.decision == "answer"]
        assert ids(doc=doc) == [answered["qa_id"]]
        today = utcnow().astimezone(TIMEZONE).date()
        assert len(ids(date_from=today, date_to=today)) == 3
        assert ids(date_from=today + timedelta(days=1)) == []
        assert ids(date_to=today - timedelta(days=1)) == []
        walked, before = [], None
        while True:  # keyset paging one row a page: every row once, newest first
            page, before = questions.page(s, questions.LogFilter(), before, limit=1)
            walked += [r.id for r in page]
            if before is None:
                break
        assert walked == [r.id for r in rows]
        assert s.scalars(select(QASource.doc_id).where(QASource.qa_id == answered["qa_id"])).all() == [doc]


def test_export_csv_and_xlsx(desk, database, tmp_path):
    from bot.exports.writers import write_csv, write_xlsx

    _ask(desk, "web", "exporter" * 3, "=1+1 提案审查要多久？")
    _ask(desk, "web", "exporter" * 3, DECLINED)
    with database.session() as s:
        write_csv(
            questions.export_rows(s, questions.LogFilter()), tmp_path / "q.csv", questions.EXPORT_HEADER
        )
        write_xlsx(questions.export_rows(s, questions.LogFilter(declined=True)), tmp_path / "q.xlsx",
                   questions.EXPORT_HEADER)  # fmt: skip
    table = list(csv.reader(io.StringIO((tmp_path / "q.csv").read_text(encoding="utf-8-sig"))))
    assert table[0] == list(questions.EXPORT_HEADER) and len(table) == 3
    assert table[1][4] == DECLINED and table[1][6] == "未回答" and table[1][3] == "访客"
    assert table[2][4] == "'=1+1 提案审查要多久？"  # the formula guard of bot/exports
    sheet = load_workbook(tmp_path / "q.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(questions.EXPORT_HEADER) and len(values) == 2 and values[1][4] == DECLINED


def _log(s, question: str, *, declined: bool = True, vote: int | None = None, minutes_ago: int = 0) -> int:
    row = QALog(channel="web", chat_id="c", question=question, answer="…", declined=declined, vote=vote,
                decision="decline" if declined else "answer", created_at=utcnow() - timedelta(minutes=minutes_ago))  # fmt: skip
    s.add(row)
    s.flush()
    return row.id


def test_gaps_group_unanswered_questions_by_meaning(desk, database):
    weight = TermWeights(desk.knowledge.lexical.idf, len(desk.knowledge.lexical))
    with database.session() as s:
        _log(s, "委员证丢了怎么补办？", minutes_ago=50)
        _log(s, "政协大楼几点开门？", minutes_ago=40)
        _log(s, "委员证丢了，怎么补办", minutes_ago=30)
        _log(s, "请问委员证丢了怎么补办？", minutes_ago=20)
        _log(s, "政协大楼早上几点开门？", declined=False, vote=-1, minutes_ago=10)
        _log(s, "全会期间住宿怎么安排？", declined=False, vote=1, minutes_ago=5)  # answered and liked: no gap
        latest_card = _log(s, "委员证丢了怎么补办呀", minutes_ago=1)
    with database.session() as s:
        found = questions.gaps(s, weight)
    assert [(g.count, g.declined, g.voted_down) for g in found] == [(4, 4, 0), (2, 1, 1)]
    card, hall = found
    assert card.latest.id == latest_card and card.latest.question == "委员证丢了怎么补办呀"
    assert set(card.phrasings) == {
        "委员证丢了怎么补办呀",
        "请问委员证丢了怎么补办？",
        "委员证丢了，怎么补办",
        "委员证丢了怎么补办？",
    }
    assert hall.latest.question == "政协大楼早上几点开门？" and card.official_id is hall.official_id is None
    with database.session() as s:
        draft = official.Draft(
            "委员证丢了怎么补办？", card.phrasings[1:], "text", "到办公室补办。", "办公室通知"
        )
        oid = official.create(s, "xiaoli", draft, desk.knowledge).id
    with database.session() as s:
        after = questions.gaps(s, weight)
    assert [(g.count, g.official_id) for g in after] == [(2, None), (4, oid)]  # answered gaps go last


@pytest.fixture
def site(desk, database):
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
    with serve_web_app(desk) as (base, _loop):
        yield base


def test_pages_export_and_access(site, desk, database):
    from bot.channels.web import sessions as web_sessions

    _ask(desk, "web", "member-x" * 3, DECLINED)
    pages = ["/staff/questions", "/staff/questions/gaps", "/staff/questions/official",
             "/staff/questions/official/new", "/staff/questions/export.csv"]  # fmt: skip
    member = requests.Session()  # a member's web chat session is no staff session
    with database.session() as s:
        member.cookies.set("lvzhi_web", web_sessions.issue(s, "member-x" * 3, None)[1])
    for path in pages:
        for who in (requests, member):
            r = who.get(f"{site}{path}", allow_redirects=False)
            assert r.status_code == 303 and r.headers["Location"].startswith("/staff/login"), path
    for path in ("/staff/questions/official/new", "/staff/questions/official/1/withdraw"):
        for who in (requests, member):
            r = who.post(f"{site}{path}", data={"question": "x", "kind": "text", "text": "y", "source": "z"},
                         allow_redirects=False)  # fmt: skip
            assert r.status_code == 403, path
    web = staff_login(site)
    log = web.get(f"{site}/staff/questions", params={"declined": "1"})
    assert log.status_code == 200 and DECLINED in log.text and "访客" in log.text
    forged = web.post(f"{site}/staff/questions/official/new",
                      data={"csrf": "forged", "question": DECLINED, "kind": "text", "text": "a", "source": "b"})  # fmt: skip
    assert forged.status_code == 403
    with database.session() as s:
        assert s.scalar(select(QALog.id).where(QALog.official_id.is_not(None))) is None
    assert web.get(f"{site}/staff/questions", params={"channel": "fax"}).status_code == 400
    assert web.get(f"{site}/staff/questions", params={"from": "2026-13-01"}).status_code == 400
    assert web.get(f"{site}/staff/questions", params={"before": "abc"}).status_code == 400
    csv_text = web.get(f"{site}/staff/questions/export.csv", params={"declined": "1"}).content.decode(
        "utf-8-sig"
    )
    assert DECLINED in csv_text and csv_text.startswith("编号,时间,渠道")
    xlsx = web.get(f"{site}/staff/questions/export.xlsx")
    assert xlsx.content[:2] == b"PK"
    new = web.get(f"{site}/staff/questions/official/new", params={"qa": "1"}).text
    empty = web.post(f"{site}/staff/questions/official/new",
                     data={"csrf": csrf_of(new), "question": DECLINED, "kind": "text", "text": "", "source": ""})  # fmt: skip
    assert empty.status_code == 400 and "请填写答复文字" in empty.text


def test_migration_fills_decision_and_cited_documents_of_earlier_answers(db_url):
    from sqlalchemy import text

    from bot.storage import Database

    db = Database(db_url)
    db.migrate("0701_documents")
    with db.engine.begin() as conn:
        for question, declined, chunks in (("答了", False, '["docs/甲.txt:3:ab", "docs/甲.txt:4:cd", "乙:1:ef"]'),
                                           ("没答", True, "[]")):  # fmt: skip
            conn.execute(
                text("INSERT INTO qa_log (channel, chat_id, question, answer, declined, chunk_ids, citations, ms, "
                     "created_at) VALUES ('web', 'c', :q, '…', :d, :c, '[]', 1.0, :at)"),
                {"q": question, "d": declined, "c": chunks, "at": utcnow()},
            )  # fmt: skip
    db.migrate()
    with db.session() as s:
        rows = {r.question: r for r in s.scalars(select(QALog))}
        assert (rows["答了"].decision, rows["没答"].decision) == ("answer", "decline")
        docs = s.scalars(
            select(QASource.doc_id).where(QASource.qa_id == rows["答了"].id).order_by(QASource.doc_id)
        )
        assert list(docs) == ["docs/甲.txt", "乙"]
        assert questions.page(s, questions.LogFilter(doc="乙"))[0][0].question == "答了"
    db.downgrade("0701_documents")  # and back
    db.migrate()
    db.dispose()


def test_greetings_emoji_and_markup_are_no_gaps(desk, database):
    """A message that is no question is logged as "chat" (非提问): never in the knowledge gaps nor among the
    unanswered questions; rows logged as declines before "chat" existed are kept out by their text."""
    weight = TermWeights(desk.knowledge.lexical.idf, len(desk.knowledge.lexical))
    user = "gaps-chat-1"
    for text in ("你好", "谢谢", "😀🎉", "<b>test</b> & <script>"):
        assert _ask(desk, "web", user, text)["decision"] == "chat"
    assert _ask(desk, "web", user, DECLINED)["decision"] == "decline"
    with database.session() as s:
        _log(s, "您好")  # an earlier row: a greeting logged as a decline
        assert [g.latest.question for g in questions.gaps(s, weight)] == [DECLINED]
        unanswered = questions.page(s, questions.LogFilter(declined=True))[0]
        assert {r.question for r in unanswered} == {DECLINED, "您好"}
        chats = questions.page(s, questions.LogFilter(decision="chat"))[0]
        assert sorted(r.question for r in chats) == sorted(["你好", "谢谢", "😀🎉", "<b>test</b> & <script>"])


def test_no_question_gets_its_note_in_the_members_script_and_no_offers(desk):
    ref = ChatRef("web", "trad-chat-1", "trad-chat-1", "委員")
    desk.assistant.handle(ref, Event("text", "社情民意資訊怎麼報送？"))  # the chat now speaks Traditional
    for text in ("😀", "<b>test</b>"):
        reply = desk.assistant.handle(ref, Event("text", text))[0]
        assert "沒有看懂您的意思" in reply.html and "没有看懂" not in reply.html
        assert reply.buttons == [] and reply.meta["decision"] == "chat"
