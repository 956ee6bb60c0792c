"""The documents desk (/staff/docs) and the retrieval test (/staff/search-test), end to end: real .docx regulations made
by python-docx, uploaded in headless Chromium, ingested in the background, asked in the web chat, replaced, removed;
the guard, CSRF and size limit over plain HTTP; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
import requests
from docx import Document
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from test_staff_web import _click, _login
from waiting import until_sync
from web_fixtures import serve_web_app

from bot.knowledge.library import clean_file_name
from bot.knowledge.outline import outline, section_anchor
from bot.knowledge.types import Chunk
from bot.staff import accounts
from bot.staff.models import AuditEntry

TITLE = "青川市政协委员请假办法"
ART2_V1 = "第二条 委员因故不能出席全体会议的，应当提前三天向秘书处提交书面请假报告。"
ART2_V2 = "第二条 委员因故不能出席全体会议的，应当提前五个工作日向秘书处提交书面请假报告。"
ARTICLES = [
    ("第一章 总则", ["第一条 为了规范委员请假管理，保障委员依法履职，制定本办法。"]),
    ("第二章 请假程序", [ART2_V1, "第三条 委员请假由秘书处登记，并报主席会议备案。"]),
    ("第三章 附则", ["第四条 本办法自印发之日起施行。"]),
]
QUESTION = "委员不能出席全体会议，要提前多久请假？"
UNANSWERABLE = "政协机关食堂的早餐几点开始供应？"


def regulation_docx(path: Path, articles=ARTICLES, title: str = TITLE) -> Path:
    """A regulation as Word writes it: a title, chapters and articles, one paragraph each (python-docx)."""
    doc = Document()
    doc.add_heading(title, level=1)
    for chapter, texts in articles:
        doc.add_paragraph(chapter)
        for text in texts:
            doc.add_paragraph(text)
    doc.save(path)
    return path


def _second_version(path: Path) -> Path:
    articles = [(c, [ART2_V2 if t == ART2_V1 else t for t in texts]) for c, texts in ARTICLES]
    return regulation_docx(path, articles)


@pytest.fixture
def desk(database, tmp_path):
    """Services over an empty index of their own (lexical only, for speed) and the web server; a staff account."""
    from bot.services import build_services
    from bot.settings import Settings

    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", index_dir=tmp_path / "index", dense_index=False,
        database_url=database.url, flood_max_events=1000, flood_max_per_address=1000, max_file_mb=0.2,
    )  # fmt: skip
    services = build_services(settings)
    services.__dict__["db"] = database
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
    with serve_web_app(services) as (base, _loop):
        yield base, services


def _ask(base: str, question: str) -> str:
    """A member's question in the web chat (the real /api/message); the reply's text."""
    replies = requests.post(f"{base}/api/message", json={"text": question}, timeout=60).json()["replies"]
    return "\n".join(r["html"] for r in replies)


def _settled(driver, state: str = "完成"):
    """Wait condition: the upload's page shows the given state (the page reloads itself when the job ends)."""

    def check(_driver) -> bool:
        try:
            return driver.find_element(By.ID, "job-state").text == state and (
                driver.execute_script("return document.readyState") == "complete"
            )
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return False
            raise

    return check


def _outcomes(driver) -> list[tuple[str, str, str]]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#outcomes tbody tr")
    return [
        tuple(td.text for td in r.find_elements(By.CSS_SELECTOR, "td.file, td.result, td.reason"))
        for r in rows
    ]


def _upload(driver, input_id: str, button_id: str, *paths: Path) -> None:
    driver.find_element(By.ID, input_id).send_keys("\n".join(str(p) for p in paths))
    _click(driver, button_id)
    WebDriverWait(driver, 180).until(_settled(driver))
    progress = driver.find_element(By.ID, "progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == str(len(paths))


@pytest.mark.slow
def test_upload_ask_replace_remove_in_chromium(desk, browser, database, tmp_path):
    base, services = desk
    v1 = regulation_docx(tmp_path / "请假办法.docx")
    browser.get(f"{base}/staff/docs")
    assert "/staff/login?next=" in browser.current_url
    _login(browser, "staff password")
    assert browser.current_url.endswith("/staff/docs")
    assert _ask(base, QUESTION).lstrip("🙇 ").startswith("知识库中没有找到")  # nothing about leave yet

    _upload(browser, "files", "upload", v1)
    assert _outcomes(browser) == [("请假办法.docx", "新增", "")]
    _click(browser, "back-to-docs")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#docs tbody tr td")]
    assert cells[:7] == [TITLE, "请假办法.docx", "docx", cells[3], "4", "4", "1"] and cells[-1] == "xiaoli"
    browser.find_element(By.LINK_TEXT, TITLE).click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "outline"))
    number = int(re.search(r"/staff/docs/(\d+)$", browser.current_url).group(1))
    assert browser.find_element(By.CSS_SELECTOR, "#art-2 blockquote").text == ART2_V1  # exact words
    chapter = browser.find_element(By.ID, section_anchor("第二章 请假程序"))
    assert [a.get_attribute("id") for a in chapter.find_elements(By.CSS_SELECTOR, "article")] == [
        "art-2",
        "art-3",
    ]
    answer = _ask(base, QUESTION)
    assert "提前三天" in answer and f"《{TITLE}》" in answer and "第二条" in answer

    # a new version of the same document replaces its text; the answer follows at once
    (tmp_path / "v2").mkdir()
    v2 = _second_version(tmp_path / "v2" / "请假办法.docx")
    _upload(browser, "replace-file", "replace", v2)
    assert _outcomes(browser) == [("请假办法.docx", "已更新为新版本", "")]
    answer = _ask(base, QUESTION)
    assert "提前五个工作日" in answer and "提前三天" not in answer

    # the same file again is unchanged; an unreadable file and a table are skipped with their reasons
    broken = tmp_path / "损坏的通知.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    table = tmp_path / "名单.xlsx"
    table.write_bytes(b"PK\x03\x04 not a table")
    browser.get(f"{base}/staff/docs")
    _upload(browser, "files", "upload", v2, broken, table)
    outcomes = _outcomes(browser)
    assert outcomes[0] == ("请假办法.docx", "未变化", "")
    assert outcomes[1][:2] == ("损坏的通知.pdf", "已跳过") and "PDF" in outcomes[1][2]
    assert outcomes[2] == ("名单.xlsx", "已跳过", "不支持表格文件，请将内容另存为 .docx 或 .txt 后再导入")
    assert not (
        services.settings.data_dir / "documents" / "损坏的通知.pdf"
    ).exists()  # skipped files not kept

    download = browser.execute_script(
        "return fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => b.byteLength)",
        f"{base}/staff/docs/{number}/original",
    )
    assert download == v2.stat().st_size

    # removal needs the confirmation step; then the document is no longer cited
    browser.get(f"{base}/staff/docs/{number}")
    _click(browser, "remove")
    assert TITLE in browser.find_element(By.ID, "confirm").text
    _click(browser, "cancel-remove")
    assert browser.find_elements(By.ID, "outline")  # cancelled: still there
    assert f"《{TITLE}》" in _ask(base, QUESTION)
    _click(browser, "remove")
    _click(browser, "confirm-remove")
    assert browser.find_element(By.ID, "flash").text == f"已移除《{TITLE}》，知识库已更新。"
    assert browser.find_element(By.ID, "doc-count").text == "0"
    answer = _ask(base, QUESTION)
    assert answer.lstrip("🙇 ").startswith("知识库中没有找到") and TITLE not in answer
    browser.get(f"{base}/staff/docs/{number}")
    assert "已从知识库中移除（操作人：xiaoli）" in browser.find_element(By.ID, "error").text

    with database.session() as s:
        rows = [(e.actor, e.action, e.target, (e.after or {}).get("outcome"))
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("doc_%")).order_by(AuditEntry.id))]  # fmt: skip
    assert rows == [
        ("xiaoli", "doc_upload", f"doc:{number}", "added"),
        ("xiaoli", "doc_replace", f"doc:{number}", "updated"),
        ("xiaoli", "doc_upload", f"doc:{number}", "unchanged"),
        ("xiaoli", "doc_upload", "file:损坏的通知.pdf", "skipped"),
        ("xiaoli", "doc_upload", "file:名单.xlsx", "skipped"),
        ("xiaoli", "doc_remove", f"doc:{number}", None),
    ]

    # on a desktop, files dropped onto the form are uploaded (docs.js puts them in the file input and submits)
    browser.set_window_size(1280, 800)
    browser.get(f"{base}/staff/docs")
    browser.execute_script(
        """const dt = new DataTransfer();
        dt.items.add(new File([arguments[0]], arguments[1], {type: "text/plain"}));
        document.getElementById("dropzone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));""",
        "青川市政协会议须知\n\n第一条 参加会议的委员应当提前十分钟入场。\n",
        "会议须知.txt",
    )
    WebDriverWait(browser, 180).until(_settled(browser))
    assert _outcomes(browser) == [("会议须知.txt", "新增", "")]
    assert "提前十分钟入场" in _ask(base, "参加会议的委员应当提前多久入场？")


def _staff_session(base: str) -> tuple[requests.Session, str]:
    web = requests.Session()
    web.get(f"{base}/staff/login")
    data = {"csrf": web.cookies.get("lvzhi_staff_login"), "username": "xiaoli", "password": "staff password"}
    assert web.post(f"{base}/staff/login", data=data).url.endswith("/staff/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get(f"{base}/staff/docs").text).group(1)
    return web, csrf


def _wait_job(web: requests.Session, base: str, location: str) -> dict:
    """Poll the job's JSON until it has finished (a condition, not a fixed sleep)."""
    url = f"{base}{location}.json"

    def finished() -> dict | None:
        job = web.get(url).json()
        if job["state"] in ("done", "failed"):
            return job
        web.get(f"{base}/staff/docs")  # a request in between: the worker runs meanwhile
        return None

    return until_sync(finished, "the upload to finish", every=0.0)


def test_guard_csrf_size_limit_and_search_test(desk, database, tmp_path):
    base, services = desk
    v1 = regulation_docx(tmp_path / "请假办法.docx")
    files = {"files": ("请假办法.docx", v1.read_bytes())}
    # anonymous and member (web chat cookie only) requests never reach the pages or the POSTs
    member = requests.Session()
    member.post(f"{base}/api/message", json={"text": "你好"})
    assert member.cookies.get("lvzhi_web")
    for who in (requests, member):
        for path in (
            "/staff/docs",
            "/staff/search-test?q=x",
            "/staff/docs/1",
            "/staff/docs/jobs/abcdefgh.json",
        ):
            resp = who.get(f"{base}{path}", allow_redirects=False)
            assert resp.status_code == 303 and resp.headers["Location"].startswith("/staff/login")
        resp = who.post(f"{base}/staff/docs/upload", data={"csrf": "x"}, files=files, allow_redirects=False)
        assert resp.status_code == 403 and "仅限已登录的工作人员" in resp.text
        assert who.post(f"{base}/staff/docs/1/remove", data={"confirm": "yes"}).status_code == 403
    web, csrf = _staff_session(base)
    forged = web.post(
        f"{base}/staff/docs/upload", data={"csrf": "forged"}, files=files, allow_redirects=False
    )
    assert forged.status_code == 403 and "表单已过期或来源不明" in forged.text
    assert web.post(f"{base}/staff/docs/upload", files=files).status_code == 403  # no token at all
    assert len(services.knowledge) == 0  # nothing went in

    # one upload of several files: a regulation, an oversized file (0.2 MB limit), a name with path parts
    big = ("大文件.txt", ("第一条 " + "委员履职" * 40_000).encode("utf-8"))
    notes = (
        "../../etc/说明.txt",
        "青川市政协会议须知\n\n第一条 参加会议的委员应当提前十分钟入场。\n".encode(),
    )
    resp = web.post(
        f"{base}/staff/docs/upload",
        data={"csrf": csrf},
        files=[("files", ("请假办法.docx", v1.read_bytes())), ("files", big), ("files", notes)],
        allow_redirects=False,
    )
    assert resp.status_code == 303
    job = _wait_job(web, base, resp.headers["Location"])
    got = [(f["name"], f["outcome"], f["reason"]) for f in job["files"]]
    assert got == [
        ("请假办法.docx", "added", ""),
        ("大文件.txt", "skipped", "文件超过 0.2 MB 的上限，未导入"),
        ("../../etc/说明.txt", "added", ""),
    ]
    stored = sorted(p.name for p in (services.settings.data_dir / "documents").iterdir() if p.is_file())
    assert stored == ["说明.txt", "请假办法.docx"]  # kept under the documents folder, by their own names only
    page = web.get(f"{base}/staff/docs").text
    assert page.count('class="doc"') == 2 and "青川市政协会议须知" in page
    copy = web.post(f"{base}/staff/docs/upload", data={"csrf": csrf}, allow_redirects=False,
                    files={"files": ("请假办法 - 副本.docx", v1.read_bytes())})  # fmt: skip
    job = _wait_job(web, base, copy.headers["Location"])
    assert [(f["outcome"], f["reason"]) for f in job["files"]] == [
        ("duplicate", f"与《{TITLE}》内容相同，已跳过")
    ]
    assert not (services.settings.data_dir / "documents" / "请假办法 - 副本.docx").exists()
    assert web.get(f"{base}/staff/docs").text.count('class="doc"') == 2
    # a new version that cannot be read is skipped: the document keeps its text and its original file
    number = int(
        re.search(rf'href="/staff/docs/(\d+)">{TITLE}<', web.get(f"{base}/staff/docs").text).group(1)
    )
    broken = web.post(f"{base}/staff/docs/{number}/replace", data={"csrf": csrf}, allow_redirects=False,
                      files={"files": ("请假办法.docx", b"PK\x03\x04 broken")})  # fmt: skip
    job = _wait_job(web, base, broken.headers["Location"])
    assert job["files"][0]["outcome"] == "skipped" and job["files"][0]["reason"]
    assert web.get(f"{base}/staff/docs/{number}/original").content == v1.read_bytes()
    assert "提前三天" in _ask(base, QUESTION)
    # the questions log links the cited passage to its document page, at its article
    log_page = web.get(f"{base}/staff/questions").text
    cite = re.search(r'<a class="cite" href="([^"]+)">', log_page).group(1).replace("&amp;", "&")
    assert cite.startswith("/staff/docs/find?doc=") and cite.endswith("#art-2")
    landed = web.get(f"{base}{cite.split('#')[0]}")
    assert landed.url == f"{base}/staff/docs/{number}" and 'id="art-2"' in landed.text
    unconfirmed = web.post(f"{base}/staff/docs/{number}/remove", data={"csrf": csrf}, allow_redirects=False)
    assert unconfirmed.headers["Location"] == f"/staff/docs/{number}/remove"  # back to the confirmation
    other = web.post(f"{base}/staff/docs/{number}/replace", data={"csrf": csrf}, allow_redirects=False,
                     files={"files": ("请假办法.pdf", b"%PDF-1.4")})  # fmt: skip
    job = _wait_job(web, base, other.headers["Location"])
    assert job["files"][0]["reason"] == "新版本必须与原文件格式相同（.docx）；格式不同请先移除原文档再上传"

    # the retrieval test: ranked passages with scores, the decision and the member's answer
    found = web.get(f"{base}/staff/search-test", params={"q": QUESTION}).text
    assert re.search(r'id="st-decision">回答<', found)
    first = re.search(r'<tr class="passage"><td class="rank">1</td><td class="source"><a href="([^"]+)">([^<]+)</a>',
                      found)  # fmt: skip
    assert first.group(2) == f"《{TITLE}》第二章 请假程序 &gt; 第二条"
    assert re.fullmatch(r"/staff/docs/\d+#art-2", first.group(1))
    assert "提前三天" in re.search(r'id="st-answer">([^<]*)<', found).group(1)
    confidence = float(re.search(r'id="st-confidence">([\d.]+)<', found).group(1))
    threshold = float(re.search(r'id="st-threshold">([\d.]+)<', found).group(1))
    assert confidence >= threshold
    declined = web.get(f"{base}/staff/search-test", params={"q": UNANSWERABLE}).text
    assert re.search(r'id="st-decision">不回答（婉拒）<', declined)
    assert "知识库中没有找到" in re.search(r'id="st-answer">([^<]*)<', declined).group(1)
    why = re.search(r'id="st-why">([^<]*)<', declined).group(1)
    assert why and why != "证据充分"
    if 'class="passage"' in declined:  # passages found but too weak: the confidence is under the threshold
        assert float(re.search(r'id="st-confidence">([\d.]+)<', declined).group(1)) < float(
            re.search(r'id="st-threshold">([\d.]+)<', declined).group(1)
        )

    twice = web.post(f"{base}/staff/docs/upload", data={"csrf": csrf}, allow_redirects=False, files=[
        ("files", ("重名.txt", "第一稿\n\n第一条 旧的写法。\n".encode())),
        ("files", ("重名.txt", "第二稿\n\n第一条 新的写法。\n".encode()))])  # fmt: skip
    job = _wait_job(web, base, twice.headers["Location"])
    assert [(f["outcome"], f["reason"], f["title"]) for f in job["files"]] == [
        ("skipped", "同一次上传中有同名文件，以后一个为准", ""), ("added", "", "第二稿")]  # fmt: skip
    assert (services.settings.data_dir / "documents" / "重名.txt").read_text("utf-8").startswith("第二稿")

    with database.session() as s:
        denied = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "access_denied")))
    anonymous = [e for e in denied if e.actor == "web:127.0.0.1"]  # folded: one row a minute, with its count
    assert [(e.target, e.repeats) for e in anonymous] == [("POST /staff/docs/upload", 4)]
    assert [e.target for e in denied if e.actor == "xiaoli"] == ["CSRF POST /staff/docs/upload"] * 2


def test_outline_anchors_and_file_names():
    chunks = [
        Chunk("d:0", "d", "T", "", "2022年1月24日 审议批准", 0),
        Chunk("d:1", "d", "T", "第一章 总则", "第一章 总则", 1),
        Chunk("d:2", "d", "T", "第一章 总则 > 第一条", "第一条 甲。", 2),
        Chunk("d:3", "d", "T", "第一章 总则 > 第二条", "第二条 乙（上）", 3),
        Chunk("d:4", "d", "T", "第一章 总则 > 第二条", "乙（下）。", 4),
        Chunk("d:5", "d", "T", "附件 > 第一条", "第一条 附件的条文。", 5),
    ]
    tree = outline(chunks)
    assert [c.text for c in tree.preamble] == ["2022年1月24日 审议批准"]
    appendix = (
        "s-" + hashlib.sha1("附件 > 第一条".encode()).hexdigest()[:10]
    )  # art-1 is taken: the hashed form
    assert [(n.label, n.anchor) for n in tree.articles] == [
        ("第一条", "art-1"),
        ("第二条", "art-2"),
        ("第一条", appendix),
    ]
    assert [c.text for c in tree.articles[1].chunks] == [
        "第二条 乙（上）",
        "乙（下）。",
    ]  # one article, two chunks
    assert section_anchor("第二章 请假程序 > 第一节 一般规定 > 第十二条") == "art-12"
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\文件\\通知.docx") == "通知.docx"
    assert clean_file_name(".hidden.txt") == "hidden.txt"
    with pytest.raises(Exception, match="文件名无效"):
        clean_file_name("../")


def test_live_knowledge_reload_swaps_the_whole_index(make_settings, tmp_path):
    from bot.knowledge.base import KnowledgeBase
    from bot.knowledge.ingest import ingest_service
    from bot.knowledge.live import LiveKnowledge

    settings = make_settings(dense_index=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "会议须知.txt").write_text(
        "青川市政协会议须知\n\n第一条 参加会议的委员应当提前十分钟入场。\n", "utf-8"
    )
    ingest_service([docs], settings, progress=False)
    live = LiveKnowledge(lambda embeddings: KnowledgeBase.open(settings, embeddings=embeddings))
    before = live.current
    model = before.embeddings  # the model object the server loaded
    regulation_docx(docs / "请假办法.docx")
    report, _ = ingest_service([docs], settings, progress=False)
    assert report.added == ["docs/请假办法.docx"] and report.unchanged == ["docs/会议须知.txt"]
    live.reload()  # the upload page switches at once
    assert live.generation == 2 and len(live) == len(before) + 4
    assert live.search(QUESTION)[0].title == TITLE
    assert live.current.embeddings is model  # reused, not loaded again
    # a knowledge base opened before the ingest (another replica's) switches by itself at its next question, once
    # its once-a-second check sees the new index version (bot/knowledge/base.py reload_if_changed)
    deadline = time.monotonic() + 30
    while before.search(QUESTION)[0].title != TITLE:
        assert time.monotonic() < deadline, "the older knowledge base never switched to the new index"
        time.sleep(0.2)
