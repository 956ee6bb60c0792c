"""Upload-to-answerable time of a ~50-page Word regulation on the staff documents page (issue 11); prints figures.

    python benchmarks/bench_upload.py [--runs 3] [--pages 50]

Each run: a fresh data folder and index, the real web server (chat + staff pages, default settings: dense vectors made
in the background) on loopback, a staff login; the clock starts when the browser would send the upload (multipart POST
of the .docx made by python-docx) and stops when the web chat (/api/message) first answers a question about an
article near the end of the document with its title. Prints each run, the median and the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

TITLE = "青川市政协委员履职服务管理规定"
CHAPTER_NAMES = "总则 委员权利 委员义务 提案工作 社情民意信息 视察调研 会议活动 学习培训 履职档案 考核评价 服务保障 监督管理 附则"
CHARS_PER_PAGE = 700  # a printed page of a regulation in 仿宋 三号 holds about this many characters
NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..999 as Chinese numerals (十二, 一百零五), as regulations number their articles."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = f"{NUMERALS[hundreds]}百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else NUMERALS[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    return out + (NUMERALS[ones] if ones else "")


def article_text(n: int, chapter: str) -> str:
    """A plausible article of about 150 characters, different for every n (so no two chunks are alike)."""
    return (
        f"第{chinese_number(n)}条 委员在{chapter}方面应当按照本规定第{chinese_number(max(n - 1, 1))}条的要求，"
        f"结合所在界别和专门委员会的实际，每年至少参加{n % 7 + 2}次相关活动，并在活动结束后{n % 5 + 3}个工作日内"
        f"向委员工作委员会报送书面材料。委员工作委员会应当对报送的材料进行登记，编号为{1000 + n}，"
        f"并在年度履职档案中如实记载，作为评价委员履职情况的依据之一。"
    )


def make_regulation(path: Path, pages: int) -> tuple[Path, str, str]:
    """The .docx (python-docx), a question about one of its last articles, and the words its answer must quote."""
    from docx import Document

    doc = Document()
    doc.add_heading(TITLE, level=1)
    doc.add_paragraph("（2026年3月1日青川市政协第十三届常务委员会第五次会议通过）")
    chapters = CHAPTER_NAMES.split()
    average = sum(len(article_text(n, chapters[n % len(chapters)])) for n in range(1, 101)) / 100
    per_chapter = max(math.ceil(pages * CHARS_PER_PAGE / average / len(chapters)), 1)
    n = 0
    for c, name in enumerate(chapters, start=1):
        doc.add_paragraph(f"第{chinese_number(c)}章 {name}")
        for _ in range(per_chapter):
            n += 1
            doc.add_paragraph(article_text(n, name))
    special = n + 1
    doc.add_paragraph(
        f"第{chinese_number(special)}条 委员因病因公不能参加年度述职的，应当在述职会议召开前向秘书长办公会书面说明，"
        "经同意后可以书面述职。"
    )
    doc.save(path)
    return path, "委员不能参加年度述职怎么办？", "书面述职"


def _serve(services):
    from aiohttp import web

    from bot.channels.web.app import build_web_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_web_app(services))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)

    return f"http://127.0.0.1:{port}", stop


def _stop_vectors(index_dir: Path) -> None:
    """End the background `lvzhi vectors` process this run started (its id is in <index>/vectors.lock)."""
    from bot.knowledge.background_vectors import VectorLock

    holder = VectorLock(index_dir).holder()
    if not holder.isdigit():
        return
    try:  # only that process: its command line names `vectors` and this run's index (the id may be reused)
        cmdline = Path(f"/proc/{holder}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if b"vectors" in cmdline and str(index_dir).encode() in cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(holder), signal.SIGTERM)


def one_run(docx: Path, question: str, expect: str) -> float:
    """Seconds from the upload request to the first answer that quotes the document."""
    import requests

    from bot.services import build_services
    from bot.settings import Settings
    from bot.staff import accounts

    with tempfile.TemporaryDirectory(prefix="lvzhi-upload-") as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", flood_max_events=100_000,
                            flood_max_per_address=100_000)  # fmt: skip
        services = build_services(settings)
        with services.db.session() as s:
            accounts.add(s, "bench", "bench", "bench password", "staff")
        _ = services.answerer  # the server starts with its knowledge base open, as `lvzhi serve` does
        base, stop = _serve(services)
        try:
            web = requests.Session()
            web.get(f"{base}/staff/login")
            token = web.cookies.get("lvzhi_staff_login")
            web.post(
                f"{base}/staff/login", data={"csrf": token, "username": "bench", "password": "bench password"}
            )
            csrf = re.search(r'name="csrf" value="([^"]+)"', web.get(f"{base}/staff/docs").text).group(1)
            chat = requests.Session()
            chat.post(f"{base}/api/message", json={"text": question})  # the chat is open before the upload
            started = time.perf_counter()
            resp = web.post(
                f"{base}/staff/docs/upload",
                data={"csrf": csrf},
                files={"files": (docx.name, docx.read_bytes())},
                allow_redirects=False,
            )
            job_url = f"{base}{resp.headers['Location']}.json"
            while True:
                job = web.get(job_url).json()
                if job["state"] in ("done", "failed"):
                    break
                time.sleep(0.05)
            if job["state"] != "done" or job["files"][0]["outcome"] != "added":
                raise SystemExit(f"upload failed: {job}")
            while True:
                html = "".join(
                    r["html"]
                    for r in chat.post(f"{base}/api/message", json={"text": question}).json()["replies"]
                )
                if expect in html and TITLE in html:
                    return time.perf_counter() - started
                time.sleep(0.05)
        finally:
            stop()
            _stop_vectors(settings.resolved_index_dir)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docx, question, expect = make_regulation(Path(tmp) / f"{TITLE}.docx", args.pages)
        from docx import Document

        chars = sum(len(p.text) for p in Document(docx).paragraphs)
        print(
            f"文档：{docx.name}，{chars} 字（约 {chars / CHARS_PER_PAGE:.0f} 页），{docx.stat().st_size / 1024:.0f} KB"
        )
        load_before = os.getloadavg()
        times = []
        for run in range(1, args.runs + 1):
            seconds = one_run(docx, question, expect)
            times.append(seconds)
            print(f"第 {run} 次：上传到可回答 {seconds:.2f} 秒", flush=True)
        load_after = os.getloadavg()
    print(
        f"中位数：{statistics.median(times):.2f} 秒（{args.runs} 次：{' / '.join(f'{t:.2f}' for t in times)}）"
    )
    print(
        f"机器负载（1/5/15 分钟平均）：开始 {' '.join(f'{x:.2f}' for x in load_before)}，"
        f"结束 {' '.join(f'{x:.2f}' for x in load_after)}；CPU {os.cpu_count()} 核"
    )


if __name__ == "__main__":
    main()
