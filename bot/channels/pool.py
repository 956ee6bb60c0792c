"""The threads that run members' messages off the event loop (Services.answer_pool), and `in_answer_pool`.

Why not concurrent.futures.ThreadPoolExecutor: it starts or wakes another thread for every job while none is idle,
so under load several threads run Python at once and take the interpreter lock from each other at every SQLite
call (measured: ~1 ms more CPU per message at 10 or 50 web members than one thread). No library pool runs one job
at a time yet lets another start when the running one is stuck, which is what a chat needs: an answer held up (a
locked database, a slow model) must not keep other chats waiting.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextvars
import functools
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class PatientPool(concurrent.futures.Executor):
    """An executor of up to `max_workers` threads that runs one job at a time while jobs finish within
    `patience_s` seconds; a queued job starts on another thread only when every running job has run longer than
    that. `patience_s` 0: every queued job starts at once while a thread is free (a plain thread pool).

    Jobs start in submission order. Raises ValueError for max_workers < 1 or a negative patience."""

    def __init__(self, max_workers: int, patience_s: float, name: str = "answer") -> None:
        if max_workers < 1 or patience_s < 0:
            raise ValueError("max_workers ≥ 1 and patience_s ≥ 0 required")
        self.max_workers, self.patience_s, self._name = max_workers, patience_s, name
        self._cond = threading.Condition()
        self._queue: collections.deque[tuple[concurrent.futures.Future, Callable, tuple, dict]] = (
            collections.deque()
        )
        self._started: dict[int, float] = {}  # thread ident -> monotonic start of its running job
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        """Queue `fn(*args, **kwargs)`; its Future. Raises RuntimeError after shutdown."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new jobs after shutdown")
            self._queue.append((future, fn, args, kwargs))
            if self._idle == 0 and len(self._threads) < self.max_workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new jobs; queued ones still run unless `cancel_futures`; with `wait`, until every thread ends."""
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()

    def _wait_s(self) -> float:
        """Seconds until a queued job may start (0: now): until every running job has run `patience_s`, i.e. the
        youngest one has. Under the lock."""
        now = time.monotonic()
        fresh = [start for start in self._started.values() if now - start < self.patience_s]
        return max(fresh) + self.patience_s - now if fresh else 0.0

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._cond:
                while True:
                    if self._queue and (wait := self._wait_s()) <= 0:
                        future, fn, args, kwargs = self._queue.popleft()
                        self._started[me] = time.monotonic()
                        break
                    if self._shutdown and not self._queue:
                        return
                    self._idle += 1
                    self._cond.wait(wait if self._queue else None)
                    self._idle -= 1
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except BaseException as exc:  # noqa: BLE001 - the awaiting caller gets it, as from any executor
                        future.set_exception(exc)
            finally:
                del future, fn, args, kwargs  # no reference to the job's objects while idle
                with self._cond:  # this thread goes on with the next job itself: no other thread to wake
                    del self._started[me]


async def in_answer_pool(services, fn: Callable[..., T], /, *args) -> T:
    """`fn(*args)` on services.answer_pool, with this task's context variables (as asyncio.to_thread gives);
    its result, or the exception it raised."""
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await asyncio.get_running_loop().run_in_executor(services.answer_pool, call)
