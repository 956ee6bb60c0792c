"""Several `lvzhi serve` replicas as real processes on one PostgreSQL, a Bot API stand-in they share over HTTP,
and nginx / `chroma run` on loopback (tests/test_scale_out.py, benchmarks/bench_replicas.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from aiohttp import web
from waiting import until_sync

REPO = Path(__file__).resolve().parents[1]
TOKEN = "123456:REPLICAS"
BOT_ID = 123456


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 60.0, what: str = "condition", every: float = 0.1):
    """Poll `condition()` until truthy (its value); AssertionError naming `what` after `timeout` seconds
    (waiting.until_sync with this harness's argument order)."""
    return until_sync(condition, what, timeout, every)


@dataclass
class Sent:
    """One sendMessage the stand-in accepted: when (monotonic), from which replica, to which chat, the text."""

    at: float
    replica: str
    chat_id: str
    text: str


@dataclass
class ApiCall:
    """One Bot API call the stand-in received: when (monotonic), from which replica, the method and its fields."""

    at: float
    replica: str
    method: str
    params: dict


@dataclass
class BotApiServer:
    """The Bot API over HTTP for several replicas: base URL /<replica>/bot<token>/<method> tells who called.

    Records every sendMessage; serves queued updates to getUpdates (kept until confirmed by a higher offset, as
    Telegram does) and records which replica polled when; `latency_s` delays each sendMessage. Every call but
    getUpdates is kept in `calls`; `on_call(call)`, if set, is called with each from the server's thread.
    """

    latency_s: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    polls: list[tuple[float, str]] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    on_call: Callable[[ApiCall], None] | None = None
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_update: int = 1
    _msg: int = 1000

    def base_url(self, replica: str) -> str:
        """LVZHI_TELEGRAM_BASE_URL for one replica."""
        return f"http://127.0.0.1:{self.port}/{replica}/bot"

    def start(self) -> None:
        """Serve on a free loopback port from a thread of its own."""
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/{replica}/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def push_text(self, user_id: int, text: str) -> int:
        """Queue a private text message from a member for getUpdates; its update_id."""
        update = self.text_update(user_id, text)
        with self._lock:
            self.updates.append(update)
        return update["update_id"]

    def text_update(self, user_id: int, text: str) -> dict:
        """A new update: a private text message from a member (for getUpdates or a webhook POST)."""
        with self._lock:
            uid = self._next_update
            self._next_update += 1
            user = {"id": user_id, "is_bot": False, "first_name": "委员"}
            return {
                "update_id": uid,
                "message": {
                    "message_id": uid,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private"},
                    "from": user,
                    "text": text,
                    **(
                        {"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                        if text.startswith("/")
                        else {}
                    ),
                },
            }

    def sent_by(self) -> Counter:
        """sendMessage calls per replica."""
        with self._lock:
            return Counter(s.replica for s in self.sent)

    def per_chat(self) -> Counter:
        """sendMessage calls per chat id."""
        with self._lock:
            return Counter(s.chat_id for s in self.sent)

    def pollers_since(self, since: float) -> set[str]:
        """Replicas that called getUpdates after `since` (monotonic)."""
        with self._lock:
            return {r for t, r in self.polls if t >= since}

    async def _handle(self, request: web.Request) -> web.Response:
        method, replica = request.match_info["method"], request.match_info["replica"]
        if request.content_type == "application/json":
            form = await request.json()
        else:
            form = dict(await request.post())
        if method == "getMe":
            return _ok({"id": BOT_ID, "is_bot": True, "first_name": "履职助手", "username": "lvzhi_bot"})
        if method == "getUpdates":
            return await self._get_updates(replica, form)
        call = ApiCall(time.monotonic(), replica, method, form)
        with self._lock:
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        if method == "sendMessage":
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            chat = str(form["chat_id"])
            with self._lock:
                self._msg += 1
                self.sent.append(Sent(time.monotonic(), replica, chat, str(form.get("text", ""))))
                mid = self._msg
            return _ok(
                {"message_id": mid, "date": int(time.time()), "chat": {"id": int(chat), "type": "private"},
                 "text": form.get("text", "")}
            )  # fmt: skip
        return _ok(True)

    async def _get_updates(self, replica: str, form: dict) -> web.Response:
        offset = int(form.get("offset") or 0)
        deadline = time.monotonic() + min(float(form.get("timeout") or 0), 1.0)
        with self._lock:
            self.polls.append((time.monotonic(), replica))  # when a getUpdates call came in, and from whom
        while True:
            with self._lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.05)


def _ok(result: object) -> web.Response:
    return web.Response(text=json.dumps({"ok": True, "result": result}), content_type="application/json")


class Replica:
    """One `lvzhi serve` process; `env` adds settings; its log is kept in `log_path`."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str], role: str = "all") -> None:
        self.name, self.role = name, role
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, **env, "LVZHI_REPLICA_ID": name, "PYTHONPATH": str(REPO)}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The replica's own web address."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        """Start the process (returns at once; `wait_ready` waits for its web port)."""
        cmd = [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port), "--role", self.role]
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until the web chat answers (role web/all) or the log says the bot started (role sender)."""

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-3000:]}")
            if self.role == "sender":
                return "Telegram bot started" in self.log()
            with contextlib.suppress(requests.RequestException):
                return requests.get(self.url + "/", timeout=2).status_code == 200 and (
                    "Telegram bot started" in self.log() or "LVZHI_TELEGRAM_TOKEN" not in self.env
                )
            return False

        wait_for(ready, timeout, f"replica {self.name} ready", every=0.2)

    def log(self) -> str:
        """The replica's output so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all (a crashed machine)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


def replica_env(
    db_url: str, api: BotApiServer | None, name: str, index_dir: Path, data_dir: Path, **extra
) -> dict:
    """The settings of one test replica: shared database and index, its own data dir, fast leases."""
    env = {
        "LVZHI_DATABASE_URL": db_url,
        "LVZHI_INDEX_DIR": str(index_dir),
        "LVZHI_DATA_DIR": str(data_dir / name),
        "LVZHI_DENSE_INDEX": "false",
        "LVZHI_LEASE_S": "3",
        "LVZHI_WORK_CHECK_INTERVAL_S": "0.5",
        "LVZHI_LEADER_RETRY_S": "0.5",
        "LVZHI_NOTIFY_INTERVAL_S": "0.2",
        "LVZHI_TELEGRAM_RETRY_BASE_S": "0.05",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    if api is not None:
        env.update({"LVZHI_TELEGRAM_TOKEN": TOKEN, "LVZHI_TELEGRAM_BASE_URL": api.base_url(name)})
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Nginx:
    """Debian's nginx on a free loopback port in front of the replicas, from deploy/nginx.conf's server block.

    One worker by default, so that round robin alternates strictly (each worker keeps its own turn)."""

    def __init__(
        self, upstreams: list[str], workdir: Path, webhooks: list[str] | None = None, workers: int = 1
    ) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="lvzhi-nginx-", dir=workdir))
        self.conf = self.dir / "nginx.conf"
        template = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        servers = "\n".join(f"    server {u};" for u in upstreams)
        hooks = "\n".join(f"    server {u};" for u in webhooks or ["127.0.0.1:9"])
        text = (
            template.replace("server 127.0.0.1:8001;\n    server 127.0.0.1:8002;", servers.strip())
            .replace("server 127.0.0.1:8443;\n    server 127.0.0.1:8444;", hooks.strip())
            .replace("listen 80;", f"listen 127.0.0.1:{self.port};")
            .replace("/var/log/nginx/lvzhi", str(self.dir / "lvzhi"))
        )
        main = (
            f"daemon off;\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\n"
            f"worker_processes {workers};\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  client_body_temp_path {self.dir}/body; proxy_temp_path {self.dir}/proxy;\n"
            f"  fastcgi_temp_path {self.dir}/fcgi; uwsgi_temp_path {self.dir}/uwsgi; scgi_temp_path {self.dir}/scgi;\n"
            f"  access_log off;\n{text}\n}}\n"
        )
        self.conf.write_text(main, encoding="utf-8")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The one address in front of the replicas."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        """Start nginx and wait for its port."""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run(
            [nginx, "-t", "-c", str(self.conf), "-p", str(self.dir)], check=True, capture_output=True
        )
        with (self.dir / "stderr.log").open("wb") as err:  # a file, never an unread pipe that could fill up
            self.proc = subprocess.Popen([nginx, "-c", str(self.conf), "-p", str(self.dir)], stderr=err)

        def up() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
            return False

        wait_for(up, 120, "nginx listening")
        return self

    def stop(self) -> None:
        """Stop nginx (SIGQUIT: graceful)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class ChromaServer:
    """`chroma run` (shipped by the chromadb package) on a free loopback port with its data in `path`."""

    def __init__(self, path: Path) -> None:
        self.port = free_port()
        self.path = path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """LVZHI_CHROMA_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ChromaServer:
        """Start and wait for its heartbeat."""
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.log = (self.path.parent / "chroma.log").open("wb")
        cmd = [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)

        def up() -> bool:
            with contextlib.suppress(requests.RequestException):
                return requests.get(self.url + "/api/v2/heartbeat", timeout=1).ok
            return False

        wait_for(up, 120, "chroma server heartbeat", every=0.2)
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
