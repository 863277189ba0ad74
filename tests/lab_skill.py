"""A skill made for the runtime tests: one tool per behaviour under test."""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal

from skilldeck import Context, Skill

#: The default catalog's models, as the fake server's scripts name them; the planner runs on full.
PLANNER = FULL = "gpt-5.4"
NANO = "gpt-5.4-nano"
MINI = "gpt-5.4-mini"

lab = Skill("lab", "Tools for exercising the runtime.", instructions="Answer tersely.")


@dataclass
class Label:
    label: Literal["spam", "ham"]


@lab.tool
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@lab.tool(tier="nano", output=Label, max_output_tokens=200)
async def label(ctx: Context, text: str) -> Label:
    """Label a message as spam or ham."""
    result: Label = await ctx.respond(text)
    return result


@lab.tool(tier="nano", output=Label, max_output_tokens=200, ceiling="nano")
async def label_nano_only(ctx: Context, text: str) -> Label:
    """Label on nano, never escalating."""
    result: Label = await ctx.respond(text)
    return result


@lab.tool(tier="nano", output=Label, max_output_tokens=200)
def label_sync(ctx: Context, text: str) -> Label:
    """Label from a sync handler."""
    result: Label = ctx.respond_sync(text)
    return result


@lab.tool(tier="mini", max_output_tokens=500)
async def summarize(ctx: Context, text: str) -> str:
    """Summarize a text in one sentence."""
    answer: str = await ctx.respond(text, instructions="One sentence.")
    return answer


@lab.tool(tier="nano", max_output_tokens=100)
async def digest(ctx: Context, words: int) -> str:
    """Send a document of the given number of words to the model."""
    answer: str = await ctx.respond("word " * words)
    return answer


@lab.tool
async def wait(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "woke"


@lab.tool(timeout=0.1)
async def nap(seconds: float) -> str:
    """Sleep under a declared timeout of its own."""
    await asyncio.sleep(seconds)
    return "woke"


@lab.tool
def fail(message: str) -> str:
    """Raise an error with the message."""
    raise ValueError(message)


@lab.tool(tier="mini", max_output_tokens=500)
async def delegate(ctx: Context, task: str) -> str:
    """Run a nested tool loop on the bound model with the echo tool."""
    result = await ctx.run(task, tools=["lab.echo"])  # type: ignore[attr-defined]
    return str(result.final_output)


#: Released by the test that uses `block`, so the stray thread always ends.
RELEASE = threading.Event()


@lab.tool(timeout=0.2)
def block(text: str) -> str:
    """Block until the test releases it (a sync handler that overruns its timeout)."""
    RELEASE.wait(30)
    return text


@lab.tool(tier="nano", output=Label)
async def wrong_respond(ctx: Context, text: str) -> Label:
    """Call the sync form from async code, which would block the loop."""
    result: Label = ctx.respond_sync(text)
    return result


@lab.tool
async def query_database(text: str) -> str:
    """Fail with the handler's own TimeoutError."""
    raise TimeoutError("database did not answer")


@lab.tool
async def local_respond(ctx: Context, text: str) -> str:
    """A local tool that wrongly asks for a model."""
    answer: str = await ctx.respond(text)
    return answer


class _Shout:
    """A handler object with an async __call__, run through the sync path."""

    __name__ = "shout_later"
    __doc__ = "Shout, asynchronously."

    async def __call__(self, text: str) -> str:
        return text.upper()


lab.tool(name="shout_later", description="Shout, asynchronously.")(_Shout())


# -- handler results (what goes back to the model) -------------------------------------------


async def _later(text: str) -> str:
    return text.upper()


@lab.tool
async def forgot_await(text: str) -> str:
    """Return a coroutine instead of its value: a forgotten await."""
    return _later(text)  # type: ignore[return-value]


@lab.tool
def hand_over(text: str) -> Awaitable[str]:
    """A sync handler that hands async work over: its awaitable is awaited."""
    return _later(text)


@lab.tool
def opaque(text: str) -> object:
    """Return an object that is not JSON."""
    return object()


@lab.tool
def buried_bytes(text: str) -> dict[str, list[object]]:
    """Return bytes deep inside a JSON-like value."""
    return {"parts": [text, b"raw"]}


@lab.tool
def stamped(text: str) -> dict[str, object]:
    """Return a datetime, a date, a UUID and a set: converted by rule."""
    return {
        "at": datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC),
        "on": datetime.date(2026, 3, 4),
        "id": uuid.UUID(int=7),
        "tags": {"b", "a"},
    }


@lab.tool
def miscount(text: str) -> int:
    """Return text where the annotation promises an int."""
    return "three"  # type: ignore[return-value]


@lab.tool
def bad_label(text: str) -> Label:
    """Return a Label whose value its annotation does not allow."""
    return Label(label="maybe")  # type: ignore[arg-type]


# -- handlers that do not keep to their deadline ---------------------------------------------


@lab.tool(timeout=0.2)
async def hog_loop(seconds: float) -> str:
    """Block the event loop with a sync sleep inside an async handler."""
    time.sleep(seconds)
    return "woke"


@lab.tool(timeout=0.2)
async def stubborn(seconds: float) -> str:
    """Swallow the cancellation the timeout sends, and go on."""
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        await asyncio.sleep(seconds)
    return "kept going"


@lab.tool(timeout=0.2)
async def stubborn_fail(seconds: float) -> str:
    """Swallow the cancellation, then raise: too late to count as the handler's failure."""
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        await asyncio.sleep(seconds)
    raise ValueError("gave up")


#: Set by the test of `late_respond` once its run is over; what the stray handler met.
LATE_GO = threading.Event()
LATE_DONE = threading.Event()
LATE_ERRORS: list[BaseException] = []


@lab.tool(tier="nano", output=Label, timeout=0.2)
def late_respond(ctx: Context, text: str) -> Label:
    """Overrun its deadline, then ask for the model once the run is over."""
    LATE_GO.wait(30)
    try:
        result: Label = ctx.respond_sync(text)
        return result
    except BaseException as error:
        LATE_ERRORS.append(error)
        raise
    finally:
        LATE_DONE.set()
