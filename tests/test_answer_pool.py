"""The threads that run members' messages (bot.channels.pool.PatientPool): one job at a time while jobs are quick,
another beside a job that is held up, and the executor's contract (results, errors, cancel, shutdown)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.channels.pool import PatientPool, in_answer_pool
from bot.services import build_services
from bot.settings import Settings

WAIT_S = 30.0  # generous bound on a condition that should hold in milliseconds


def held(release: threading.Event, started: threading.Event):
    """A job that signals its start and runs until `release` is set."""

    def job():
        started.set()
        assert release.wait(WAIT_S)
        return "held done"

    return job


def hold_first(pool: PatientPool):
    """Submit a held job and wait until it runs: (its release event, its future)."""
    release, started = threading.Event(), threading.Event()
    first = pool.submit(held(release, started))
    assert started.wait(WAIT_S)
    return release, first


def test_quick_jobs_run_one_at_a_time_in_order():
    pool = PatientPool(max_workers=4, patience_s=3600)
    release, first = hold_first(pool)
    order: list[str] = []
    second = pool.submit(lambda: order.append("second") or first.done())
    third = pool.submit(lambda: order.append("third"))
    release.set()
    # The first job had not run its patience: the second waited for it, though three threads were free.
    assert second.result(WAIT_S) is True
    third.result(WAIT_S)
    assert order == ["second", "third"]
    pool.shutdown()


def test_a_held_job_lets_the_next_start_after_the_patience():
    pool = PatientPool(max_workers=2, patience_s=0.05)
    release, first = hold_first(pool)
    second = pool.submit(lambda: threading.current_thread().name)
    assert second.result(WAIT_S) == "answer_1"  # done while the first is still held, on the second thread
    assert not first.done()
    release.set()
    assert first.result(WAIT_S) == "held done"
    pool.shutdown()


def test_at_most_max_workers_run_even_when_all_are_held():
    pool = PatientPool(max_workers=2, patience_s=0.0)
    release = threading.Event()
    starts = [threading.Event() for _ in range(3)]
    jobs = [pool.submit(held(release, started)) for started in starts]
    assert starts[0].wait(WAIT_S) and starts[1].wait(WAIT_S)
    assert not starts[2].is_set() and not jobs[2].running()  # both threads are taken
    release.set()
    assert [job.result(WAIT_S) for job in jobs] == ["held done"] * 3
    pool.shutdown()


def test_errors_cancel_and_shutdown():
    pool = PatientPool(max_workers=1, patience_s=3600)
    release, first = hold_first(pool)
    failing = pool.submit(lambda: 1 / 0)
    cancelled = pool.submit(lambda: "never")
    assert cancelled.cancel()
    release.set()
    with pytest.raises(ZeroDivisionError):
        failing.result(WAIT_S)
    assert first.result(WAIT_S) == "held done"
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
    with pytest.raises(ValueError):
        PatientPool(max_workers=0, patience_s=1)


def test_in_answer_pool_gives_the_result_and_the_context(tmp_path):
    import contextvars

    var = contextvars.ContextVar("var", default="unset")
    services = build_services(Settings(data_dir=tmp_path))

    async def main():
        var.set("from the task")
        return await in_answer_pool(services, lambda suffix: var.get() + suffix, "!")

    assert asyncio.run(main()) == "from the task!"
    services.answer_pool.shutdown()


@pytest.mark.parametrize(
    ("extra", "patience"),
    [
        ({}, 0.2),  # SQLite, extractive answers, local vectors: one thread at a time
        ({"llm_base_url": "http://127.0.0.1:9", "llm_model": "m"}, 0.0),
        ({"chroma_url": "http://127.0.0.1:9"}, 0.0),
        ({"database_url": "postgresql+psycopg://u@127.0.0.1:9/db"}, 0.0),
        ({"answer_patience_s": 1.5}, 1.5),
    ],
)
def test_the_patience_follows_what_answers_wait_on(tmp_path, extra, patience):
    services = build_services(Settings(data_dir=tmp_path, **extra))
    assert services.answer_patience_s == patience
    assert services.answer_pool.patience_s == patience and services.answer_pool.max_workers == 8
