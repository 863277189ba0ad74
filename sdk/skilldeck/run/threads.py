"""Sync handlers run in daemon threads, one per call, so that no handler can hold the process.

Python cannot stop a thread: a sync handler past its timeout, or still running when the run is
cancelled (Ctrl-C), keeps its thread until it returns. A `ThreadPoolExecutor`'s threads are
joined when the interpreter exits, so one handler sleeping on kept `skilldeck run` alive long
after its run had ended. A daemon thread is not joined: the run stops waiting for it at its
deadline, and the process exits when its main thread is done.

A thread per call rather than a pool: a pool's worker held by an abandoned handler would stall
the calls queued behind it, their deadlines running. The threads alive at once are the sync
calls in flight plus those abandoned and still running, which no design can reclaim.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["in_daemon_thread"]


async def in_daemon_thread(func: Callable[[], Any], *, name: str) -> Any:
    """`func()` in a new daemon thread named `name`, with the caller's context variables;
    cancelling the await stops the waiting, not the thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            value = context.run(func)
        except StopIteration as error:  # a future refuses it, and the call would never end
            _deliver(loop, future, None, RuntimeError(f"raised StopIteration: {error}"))
        except BaseException as error:  # delivered to the awaiting call, raised there
            _deliver(loop, future, None, error)
        else:
            _deliver(loop, future, value, None)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    value: Any,
    error: BaseException | None,
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: the run ended without it
        loop.call_soon_threadsafe(_settle, future, value, error)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the call stopped waiting (timed out or cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
