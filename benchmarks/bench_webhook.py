"""Simulated members through the Bot API stand-in in webhook mode against `lvzhi serve` replicas behind nginx.

    python benchmarks/bench_webhook.py [--members 1000] [--concurrency 50] [--replicas 2] [--pg-url URL]
                                       [--max-rate R] [--step-timeout 180]

Starts (or takes with --pg-url) a PostgreSQL and makes a fresh database there, builds a lexical index (BM25 only,
no vectors) of the sample documents in knowledge/, puts `--members` members on the roster and gives each an
invitation code with the product's own CLI (`lvzhi members import`, `lvzhi members invite`), then starts the Bot
API stand-in over HTTP on loopback (tests/replica_harness.py: it records every call with its arrival time),
`--replicas` × `lvzhi serve --role all` in webhook mode and Debian nginx in front (deploy/nginx.conf, location
/telegram/). The settings are the product's defaults (Telegram's 30 messages/s for the bot and 1/s per chat,
shared in PostgreSQL; the flood limit), except `--max-rate` if given.

Each simulated member is a distinct Telegram user whose updates are POSTed with the webhook secret through nginx,
at most `--concurrency` members at once, each waiting for the bot's reply before the next step as a phone would:
/start CODE (binding), one question of the shared dev set, then a whole 微建议: /suggest, type, category, skip the
title, the content, no attachment, 提交 (and 仍然提交 if similar items are offered first).

Measured: updates/s over the driving phase; reply latency per update (POST sent → the first sendMessage,
editMessageText or answerCallbackQuery for that chat arriving at the stand-in) p50/p95/max; each replica's peak
RSS (VmHWM) and CPU seconds, PostgreSQL's CPU seconds; errors (a POST refused, a step without reply within
--step-timeout). Checked at the end: micro-suggestions stored in the database = flows the driver completed, members
bound = binding replies, and no update answered twice (the replies between one POST and the chat's next come from
one replica, one callback answer per button press, no message text repeated).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import hashlib
import itertools
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from replica_harness import TOKEN, ApiCall, BotApiServer, Nginx, Replica, free_port, replica_env  # noqa: E402

SECRET = "bench-webhook-secret"
FIRST_USER = 900_000
REPLY_METHODS = ("sendMessage", "editMessageText", "answerCallbackQuery")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅"
SECTORS = [
    "中国共产党",
    "中国国民党革命委员会",
    "中国民主同盟",
    "中国民主建国会",
    "无党派人士",
    "经济界",
    "教育界",
]
TOPICS = ["地铁站", "老旧小区", "社区食堂", "公交站台", "学校门口", "菜市场", "公园", "医院门诊"]
ASKS = ["增加无障碍电梯", "加装夜间照明", "延长开放时间", "增设遮阳棚", "设置临时停车位", "增加休息座椅"]


def _questions() -> list[str]:
    shared = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
    path = shared / "eval" / "dev_qa.jsonl"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["q"] for line in lines if line.strip()]
    return ["提案的截止时间是什么时候？", "社情民意信息怎么报送？", "委员怎么参加学习培训？"]


def _cli(env: dict, *args: str) -> str:
    """Run `lvzhi …` (python -m bot.cli) with `env`; its stdout; RuntimeError with its output if it failed."""
    out = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=REPO, env=env, capture_output=True,
                         text=True)  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"lvzhi {' '.join(args)} failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    return out.stdout


def roster_codes(env: dict, members: int, workdir: Path) -> list[str]:
    """Put `members` members on the roster (a CSV through `lvzhi members import`) and give each an invitation
    code (`lvzhi members invite`); the codes."""
    path = workdir / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["姓名", "界别", "手机"])
        names = (a + b + c for a, b, c in itertools.product(SURNAMES, GIVEN, GIVEN))
        for n, name in zip(range(members), names, strict=False):
            out.writerow([name, SECTORS[n % len(SECTORS)], f"139{n:08d}"])
    _cli(env, "members", "import", str(path))
    lines = _cli(env, "members", "invite", "--days", "2").splitlines()
    codes = [line.split("\t")[2] for line in lines if line.count("\t") >= 4]
    if len(codes) != members:
        raise RuntimeError(f"{len(codes)} invitation codes for {members} members")
    return codes


@dataclass
class Step:
    """One update a member sent: what, when (monotonic), its callback query id for a press."""

    update_id: int
    kind: str
    sent_at: float
    query_id: str = ""


@dataclass
class Driver:
    """The simulated members: POSTs updates through nginx and follows the replies the stand-in receives.

    Calls reach `on_call` in the stand-in's thread; each chat keeps its calls and wakes its member's coroutine.
    """

    hook: str
    loop: asyncio.AbstractEventLoop
    step_timeout: float
    steps: dict[str, list[Step]] = field(default_factory=lambda: defaultdict(list))
    chat_calls: dict[str, list[ApiCall]] = field(default_factory=lambda: defaultdict(list))
    queries: dict[str, str] = field(default_factory=dict)
    events: dict[str, asyncio.Event] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    completed: int = 0
    bound: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def on_call(self, call: ApiCall) -> None:
        """Route one Bot API call to its chat (a callback answer by its query id) and wake the member."""
        chat = str(
            call.params.get("chat_id") or self.queries.get(str(call.params.get("callback_query_id")), "")
        )
        if not chat or chat not in self.events or self.loop.is_closed():  # closed: the run was interrupted
            return
        self.chat_calls[chat].append(call)
        self.loop.call_soon_threadsafe(self.events[chat].set)

    def _update(self, user: int, kind: str, text: str = "", data: str = "") -> tuple[dict, Step]:
        uid = next(self._ids)
        person = {"id": user, "is_bot": False, "first_name": "委员", "language_code": "zh-hans"}
        chat = {"id": user, "type": "private", "first_name": "委员"}
        step = Step(uid, kind, 0.0)
        if data:
            step.query_id = f"q{uid}"
            bot = {"id": int(TOKEN.split(":")[0]), "is_bot": True, "first_name": "履职助手"}
            message = {"message_id": uid, "date": int(time.time()), "chat": chat, "from": bot, "text": "…"}
            query = {"id": step.query_id, "from": person, "chat_instance": f"ci{user}", "data": data,
                     "message": message}  # fmt: skip
            return {"update_id": uid, "callback_query": query}, step
        message = {"message_id": uid, "date": int(time.time()), "chat": chat, "from": person, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": uid, "message": message}, step

    async def send(
        self, session, user: int, kind: str, done, text: str = "", data: str = ""
    ) -> list[ApiCall]:
        """POST one update and wait until `done(calls since the POST)` holds; those calls (None: failed)."""
        chat = str(user)
        update, step = self._update(user, kind, text, data)
        if step.query_id:
            self.queries[step.query_id] = chat
        event = self.events[chat]
        start = len(self.chat_calls[chat])
        step.sent_at = time.monotonic()
        self.steps[chat].append(step)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        try:
            async with session.post(self.hook, json=update, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    self.errors[f"HTTP {resp.status} ({kind})"] += 1
                    return None
        except Exception as exc:  # noqa: BLE001 - counted, the member gives up
            self.errors[f"{type(exc).__name__} ({kind})"] += 1
            return None
        deadline = step.sent_at + self.step_timeout
        first_seen = False
        while True:
            calls = self.chat_calls[chat][start:]
            if not first_seen:
                first = next((c for c in calls if c.method in REPLY_METHODS), None)
                if first is not None:
                    self.latencies.append(first.at - step.sent_at)
                    first_seen = True
            if done(calls, step):
                return calls
            event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.errors[f"no reply within {self.step_timeout:.0f} s ({kind})"] += 1
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def member(self, session, user: int, code: str, question: str, content: str) -> None:
        """One member's script: bind, ask, then a whole 微建议 up to 提交 (仍然提交 after a similar offer)."""
        self.events[str(user)] = asyncio.Event()
        calls = await self.send(session, user, "/start CODE", _message(), text=f"/start {code}")
        if calls is None:
            return
        self.bound += any("绑定成功" in c.params.get("text", "") for c in calls)
        if await self.send(session, user, "question", _message(), text=question) is None:
            return
        if await self.send(session, user, "/suggest", _button("f:t:micro"), text="/suggest") is None:
            return
        for data in ("f:t:micro", "f:c:1", "f:k"):
            if await self.send(session, user, f"press {data}", _answered, data=data) is None:
                return
        if await self.send(session, user, "content", _button("f:d"), text=content) is None:
            return
        if await self.send(session, user, "press f:d", _answered, data="f:d") is None:
            return
        for _ in range(2):  # 提交; a similar item offered first: 仍然提交 (the same button data)
            calls = await self.send(session, user, "press f:s", _answered, data="f:s")
            if calls is None:
                return
            texts = [c.params.get("text", "") for c in calls if c.method == "sendMessage"]
            if any(re.search(r"WJ-\d{4}-\d+", t) for t in texts):
                self.completed += 1
                return
            if not any("f:j:" in _data(c) or "f:b" in _data(c) for c in calls):
                break
        self.errors["flow not completed after 提交"] += 1

    def answered_twice(self) -> int:
        """Updates whose replies came from two replicas, got two callback answers or repeat a message."""
        twice = 0
        for chat, steps in self.steps.items():
            calls = sorted(self.chat_calls[chat], key=lambda c: c.at)
            bounds = [s.sent_at for s in steps] + [float("inf")]
            for n in range(len(steps)):
                mine = [
                    c for c in calls if bounds[n] <= c.at < bounds[n + 1] and c.method != "sendChatAction"
                ]
                texts = [c.params.get("text", "") for c in mine if c.method == "sendMessage"]
                answers = [c for c in mine if c.method == "answerCallbackQuery"]
                if len({c.replica for c in mine}) > 1 or len(answers) > 1 or len(texts) != len(set(texts)):
                    twice += 1
        return twice


def _data(call: ApiCall) -> str:
    return str(call.params.get("reply_markup") or "")


def _message():
    return lambda calls, step: any(c.method == "sendMessage" for c in calls)


def _button(data: str):
    return lambda calls, step: any(c.method == "sendMessage" and f'"{data}"' in _data(c) for c in calls)


def _answered(calls: list[ApiCall], step: Step) -> bool:
    """A press is over when its button is answered (the Sender answers it after the replies)."""
    return any(
        c.method == "answerCallbackQuery" and str(c.params.get("callback_query_id")) == step.query_id
        for c in calls
    )


async def drive(hook: str, members: int, concurrency: int, codes: list[str], step_timeout: float,
                api: BotApiServer) -> tuple[Driver, float]:  # fmt: skip
    """Run every member's script, `concurrency` at once; (the driver with its records, seconds taken)."""
    import aiohttp

    driver = Driver(hook, asyncio.get_running_loop(), step_timeout)
    api.on_call = driver.on_call
    questions = _questions()
    gate = asyncio.Semaphore(concurrency)
    contents = [f"建议在{t}{a}，方便老人和残疾人出行，请有关部门研究落实。" for t in TOPICS for a in ASKS]

    async def one(n: int, session) -> None:
        async with gate:
            content = contents[n % len(contents)] + f"（第{n + 1}位委员）"
            await driver.member(session, FIRST_USER + n, codes[n], questions[n % len(questions)], content)

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    began = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(one(n, session) for n in range(members)))
    return driver, time.monotonic() - began


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_s(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) of a process, with its reaped children's if `children`."""
    f = _stat(pid)
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def status_kb(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure in kB (VmHWM: peak resident set, VmRSS: current)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def tree_cpu_s(parent: int) -> float:
    """CPU seconds of a process with its exited children (PostgreSQL's backends) and its live ones (nginx's
    workers, the backends still connected)."""
    total = cpu_s(parent, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                f = _stat(int(entry.name))
                if int(f[1]) == parent:
                    total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError, ValueError):
                continue
    return total


def _postmaster(db_url: str) -> int | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return int(_stat(backend)[1])
    except OSError:  # PostgreSQL on another machine (--pg-url): not measured
        return None
    finally:
        engine.dispose()


def _database(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_webhook_{int(time.time())}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _count_in_db(db_url: str) -> tuple[int, int]:
    """(micro-suggestions stored, chat identities bound to a member)."""
    from sqlalchemy import func, select

    from bot.storage import Database
    from bot.storage.models import ChatIdentity, Submission

    db = Database(db_url)
    try:
        with db.session() as s:
            micro = s.scalar(select(func.count()).select_from(Submission).where(Submission.type == "micro"))
            bound = s.scalar(select(func.count()).where(ChatIdentity.member_id.is_not(None)))
        return micro, bound
    finally:
        db.dispose()


def _used(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] if values else 0.0


def _defaults() -> dict[str, str]:
    """The product's own intervals and leases (replica_env's are shortened for tests)."""
    from bot.settings import Settings

    names = (
        "lease_s",
        "work_check_interval_s",
        "leader_retry_s",
        "notify_interval_s",
        "telegram_retry_base_s",
    )
    return {f"LVZHI_{n.upper()}": str(Settings.model_fields[n].default) for n in names}


def _wait_quiet(api: BotApiServer, quiet_s: float = 3.0, limit_s: float = 60.0) -> None:
    """Wait until the stand-in has received no call for `quiet_s` (late or second replies show up first)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        last = api.calls[-1].at if api.calls else 0.0
        if time.monotonic() - last >= quiet_s:
            return
        time.sleep(0.2)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Run the benchmark and print one table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=50, help="members at once")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument(
        "--max-rate", type=float, default=None, help="LVZHI_TELEGRAM_MAX_RATE (default: the product's)"
    )
    ap.add_argument("--step-timeout", type=float, default=180.0, help="seconds a member waits for one reply")
    ap.add_argument("--pg-url", default=os.environ.get("LVZHI_TEST_POSTGRES_URL"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (replica logs)")
    args = ap.parse_args()
    signal.signal(
        signal.SIGTERM, _interrupt
    )  # `kill` cleans up like Ctrl-C: the finally below stops everything
    work = Path(tempfile.mkdtemp(prefix="lvzhi-bench-webhook-"))
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    stop_pg, api, nginx, replicas = None, None, None, []
    try:
        url = args.pg_url
        if not url:
            from storage_fixtures import _start_local_postgres

            url, stop_pg = _start_local_postgres()
        db_url = _database(url)
        index = work / "index"
        env = {**os.environ, "PYTHONPATH": str(REPO), "LVZHI_DATABASE_URL": db_url, "LVZHI_INDEX_DIR": str(index),
               "LVZHI_DATA_DIR": str(work / "cli"), "LVZHI_DENSE_INDEX": "false", "HF_HUB_OFFLINE": "1"}  # fmt: skip
        _cli(env, "ingest", str(REPO / "knowledge"))
        codes = roster_codes(env, args.members, work)
        api = BotApiServer()
        api.start()
        extra = {**_defaults(), "LVZHI_TELEGRAM_WEBHOOK_URL": "https://lvzhi.example.org/telegram",
                 "LVZHI_TELEGRAM_WEBHOOK_SECRET": SECRET}  # fmt: skip
        if args.max_rate:
            extra["LVZHI_TELEGRAM_MAX_RATE"] = args.max_rate
        hooks = [free_port() for _ in range(args.replicas)]
        for i, port in enumerate(hooks, start=1):
            renv = replica_env(db_url, api, f"r{i}", index, work, LVZHI_TELEGRAM_WEBHOOK_PORT=port, **extra)
            replicas.append(Replica(f"r{i}", work, renv).start())
        for r in replicas:
            r.wait_ready()
        nginx = Nginx([r.url.removeprefix("http://") for r in replicas], work, [f"127.0.0.1:{p}" for p in hooks],
                      workers=2).start()  # fmt: skip
        hook = f"{nginx.url}/telegram/{hashlib.sha256(TOKEN.encode()).hexdigest()[:32]}"
        postmaster = _postmaster(db_url)
        cpu0 = {r.name: cpu_s(r.proc.pid) for r in replicas}
        pg0 = tree_cpu_s(postmaster) if postmaster else None
        nginx0 = tree_cpu_s(nginx.proc.pid)
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        print(f"{args.members} members, {args.concurrency} at once, {args.replicas} replicas, {os.cpu_count()} CPUs, "
              f"load average {' '.join(load_before)}", flush=True)  # fmt: skip
        calls0 = len(api.calls)
        driver, elapsed = asyncio.run(
            drive(hook, args.members, args.concurrency, codes, args.step_timeout, api)
        )
        cpu = {r.name: cpu_s(r.proc.pid) - cpu0[r.name] for r in replicas}
        pg_cpu = tree_cpu_s(postmaster) - pg0 if postmaster else None
        nginx_cpu = tree_cpu_s(nginx.proc.pid) - nginx0
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        limited = sum(  # what the shared limiter counts: calls with a chat_id, and button answers
            1 for c in api.calls[calls0:] if "chat_id" in c.params or c.method == "answerCallbackQuery"
        )
        _wait_quiet(api)
        peak = {r.name: status_kb(r.proc.pid, "VmHWM") / 1024 for r in replicas}
        twice = driver.answered_twice()
        micro, bound_db = _count_in_db(db_url)
        updates = sum(len(s) for s in driver.steps.values())
        by_replica = Counter(c.replica for c in api.calls if c.method in REPLY_METHODS)
        from bot.settings import Settings

        rate = args.max_rate or Settings().telegram_max_rate
        load_after = Path("/proc/loadavg").read_text().split()[:3]
        lat = driver.latencies
        rows = [
            ("members (distinct Telegram users)", f"{args.members}"),
            ("updates POSTed through nginx", f"{updates}"),
            ("driving phase", f"{elapsed:.1f} s"),
            ("updates/s", f"{updates / elapsed:.1f}"),
            ("reply latency p50 / p95 / max", f"{1000 * statistics.median(lat) if lat else 0:.0f} / "
             f"{1000 * _pct(lat, 0.95):.0f} / {1000 * max(lat, default=0):.0f} ms"),  # fmt: skip
            ("Bot API calls/s counted by the rate limit", f"{limited / elapsed:.1f} (limit {rate:g}/s for the bot, "
             f"{Settings().telegram_chat_rate:g}/s per chat)"),  # fmt: skip
            ("replies (send/edit/answer) per replica", ", ".join(f"{k} {v}" for k, v in sorted(by_replica.items()))),
            ("peak RSS per replica (VmHWM)", ", ".join(f"{k} {v:.0f} MB" for k, v in peak.items())),
            ("CPU s per replica", ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())),
            ("CPU s PostgreSQL", f"{pg_cpu:.1f}" if pg_cpu is not None else "not measured (--pg-url)"),
            ("CPU s nginx", f"{nginx_cpu:.1f}"),
            ("CPU s load driver + Bot API stand-in", f"{_used(self1) - _used(self0):.1f}"),
            ("members bound (replies / database)", f"{driver.bound} / {bound_db}"),
            ("微建议 completed by the driver / in the database", f"{driver.completed} / {micro}"),
            ("updates answered twice", f"{twice}"),
            ("errors", ", ".join(f"{k}: {v}" for k, v in driver.errors.items()) or "0"),
            ("load average before / after", f"{' '.join(load_before)} / {' '.join(load_after)}"),
        ]  # fmt: skip
        width = max(len(k) for k, _ in rows)
        print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
        ok = micro == driver.completed and bound_db == driver.bound and twice == 0
        print("CHECK", "ok" if ok else "FAILED: counts differ or an update was answered twice")
        if not ok:
            sys.exit(1)
    finally:
        if api is not None:
            api.on_call = None  # the driver is gone; the replicas may still be finishing their replies
        if nginx is not None:
            nginx.stop()
        for r in replicas:
            r.stop()
        if api is not None:
            api.stop()
        if stop_pg:
            stop_pg()
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: every process started has been stopped", file=sys.stderr)
        sys.exit(130)
