"""Scripted models whose answers differ by tier and effort: how `skilldeck eval` runs offline.

An evaluation without a key cannot measure a model, and must not pretend to. What it can do is
run the whole sweep (the runtime, the client, the dispatcher's pins, the cache, the statistics
and the recommendation) against models that are right with a known probability per model and
effort, and say everywhere that the figures are simulated. `ScriptedModels` is that responder
for `FakeResponsesServer`.

Whether an answer is right is decided exactly, not by chance: the k-th run of a (model,
effort) is right when `floor((k + 1) * p) > floor(k * p)`, so n runs hold exactly `floor(n *
p)` right answers, spread evenly. Runs are numbered by the sweep, and a request header
(`RUN_HEADER`) names the run's number, cell and case, so the answer is decided from the request
alone: a resumed sweep decides each run as the uninterrupted one would, and the server may run
in another process. A request without the header is numbered in arrival order per (model,
effort), which still holds the count exact.

A right answer is the case's `simulate.right` answers (or what `right(request)` builds), a
wrong one its `simulate.wrong` (or `wrong(request)`, or else a value sampled from the
requested schema, which rarely meets an expectation). Reasoning tokens follow the effort, so
cost and estimated latency differ by cell as they would. A judge's request is answered with
the run's own verdict.
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any
from urllib.parse import quote, unquote

from skilldeck.testing.judge import JUDGE_INSTRUCTIONS
from skilldeck.testing.sampler import SIMULATED, sample_value
from skilldeck.testing.script import RecordedRequest, Turn

__all__ = [
    "RUN_HEADER",
    "SIMULATED_ACCURACY",
    "SIMULATED_REASONING",
    "ScriptedModels",
    "right_at",
    "run_header",
]

#: The request header naming the sweep's run a request belongs to (offline only).
RUN_HEADER = "x-skilldeck-eval-run"

#: How often the simulated model of each tier is right, per effort. Made up, and said to be:
#: shaped like the article's curves (a larger tier or a higher effort passes more often, with
#: diminishing returns), so a sweep has something to find.
SIMULATED_ACCURACY: Mapping[str, Mapping[str, float]] = {
    "nano": {"none": 0.7, "minimal": 0.75, "low": 0.85, "medium": 0.95, "high": 1.0, "xhigh": 1.0},
    "mini": {"none": 0.85, "minimal": 0.88, "low": 0.95, "medium": 1.0, "high": 1.0, "xhigh": 1.0},
    "full": {"none": 0.95, "minimal": 0.96, "low": 1.0, "medium": 1.0, "high": 1.0, "xhigh": 1.0},
}
#: Reasoning tokens a simulated answer bills per effort (capped below the request's
#: `max_output_tokens`).
SIMULATED_REASONING: Mapping[str, int] = {
    "none": 0,
    "minimal": 16,
    "low": 64,
    "medium": 192,
    "high": 512,
    "xhigh": 1_024,
}
#: Output tokens a simulated answer keeps for its visible text when reasoning is capped.
_VISIBLE = 64

Answer = Callable[[RecordedRequest], Any]


def right_at(ordinal: int, probability: float) -> bool:
    """Whether run `ordinal` (0, 1, ...) of a cell right with `probability` is right: exactly
    `floor(n * p)` of the first n are."""
    p = Fraction(probability).limit_denominator(1_000_000)
    return math.floor((ordinal + 1) * p) > math.floor(ordinal * p)


def run_header(ordinal: int, model: str, effort: str, case: str) -> str:
    """The `RUN_HEADER` value of a run: its ordinal in its cell, the cell's model and effort,
    and its case's key (quoted: a header is ASCII), so the answer is decided from the request
    alone, in this process or another."""
    return "|".join([str(ordinal), quote(model), quote(effort), quote(case, safe="")])


def _parse_header(value: str) -> tuple[int, str, str, str] | None:
    parts = value.split("|")
    if len(parts) != 4 or not parts[0].isdigit():
        return None
    return int(parts[0]), unquote(parts[1]), unquote(parts[2]), unquote(parts[3])


class ScriptedModels:
    """A responder for `FakeResponsesServer`: models right with `accuracy[model][effort]`.

    Cases' answers are given with `add_case` (by the case's key, as the run header names
    it); `reasoning` bills tokens per effort; `right` and `wrong` build answers for requests
    that name no run (tests that run a server as if it were the API). Safe to call from the
    server's handler threads at once.
    """

    def __init__(
        self,
        accuracy: Mapping[str, Mapping[str, float]],
        *,
        right: Answer | None = None,
        wrong: Answer | None = None,
        reasoning: Mapping[str, int] = SIMULATED_REASONING,
        seed: int = 0,
    ) -> None:
        for model, table in accuracy.items():
            for effort, p in table.items():
                if not 0.0 <= p <= 1.0:
                    raise ValueError(f"accuracy[{model!r}][{effort!r}] must be 0 to 1, not {p}")
        self.accuracy = {model: dict(table) for model, table in accuracy.items()}
        self.reasoning = dict(reasoning)
        self._right, self._wrong = right, wrong
        self.seed = seed
        self._cases: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        #: Requests answered per run so far: a tool may ask its model more than once.
        self._sent: dict[str, int] = {}
        self._arrivals: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @classmethod
    def by_tier(
        cls, models: Mapping[str, str], accuracy: Mapping[str, Mapping[str, float]] | None = None
    ) -> ScriptedModels:
        """Models named by tier (`{"nano": "gpt-5.4-nano", ...}`), right with `accuracy` per
        tier (default `SIMULATED_ACCURACY`)."""
        table = SIMULATED_ACCURACY if accuracy is None else accuracy
        return cls({model: table[tier] for tier, model in models.items() if tier in table})

    def probability(self, model: str, effort: str | None) -> float:
        table = self.accuracy.get(model)
        if table is None:
            raise KeyError(f"no simulated accuracy for model {model!r}")
        return table.get(effort or "none", 0.0)

    def add_case(self, key: str, right: Sequence[Any] = (), wrong: Sequence[Any] = ()) -> None:
        """What the case `key` is answered with when right, and when wrong."""
        with self._lock:
            self._cases[key] = (tuple(right), tuple(wrong))

    def __call__(self, request: RecordedRequest) -> Turn:
        header = request.headers.get(RUN_HEADER)
        run = _parse_header(header) if header else None
        effort = request.effort or "none"
        judging = request.instructions == JUDGE_INSTRUCTIONS
        answers: tuple[tuple[Any, ...], tuple[Any, ...]] = ((), ())
        sent = 0
        if run is not None:  # the judge decides as the run's own model did
            ordinal, model, cell_effort, case = run
            right = right_at(ordinal, self.probability(model, cell_effort))
            with self._lock:
                answers = self._cases.get(case, answers)
                if not judging and header is not None:
                    sent = self._sent.get(header, 0)
                    self._sent[header] = sent + 1
        else:
            with self._lock:
                slot = (request.model, effort)
                ordinal = self._arrivals.get(slot, 0)
                self._arrivals[slot] = ordinal + 1
            right = right_at(ordinal, self.probability(request.model, effort))
        if judging:
            verdict = {"passed": right, "reason": f"{SIMULATED} verdict of a simulated judge"}
            return self._billed(Turn.json(verdict), request, effort)
        scripted = answers[0] if right else answers[1]
        if scripted:
            return self._billed(_turn(scripted[min(sent, len(scripted) - 1)]), request, effort)
        build = self._right if right else self._wrong
        if build is not None:
            return self._billed(_turn(build(request)), request, effort)
        return self._billed(self._sampled(request), request, effort)

    def _sampled(self, request: RecordedRequest) -> Turn:
        schema = request.json_schema
        rng = random.Random(f"{self.seed}:{request.model}:{json.dumps(request.input)[:200]}")
        if schema is not None:
            return Turn.json(sample_value(schema, rng=rng))
        return Turn.message(f"{SIMULATED} {request.model} answered wrongly")

    def _billed(self, turn: Turn, request: RecordedRequest, effort: str) -> Turn:
        tokens = self.reasoning.get(effort, 0)
        limit = request.max_output_tokens
        if limit is not None:
            tokens = max(0, min(tokens, limit - _VISIBLE))
        if tokens <= 0:
            return turn
        return turn.with_reasoning(tokens, f"{SIMULATED} reasoning at effort {effort}")


def _turn(answer: Any) -> Turn:
    if isinstance(answer, Turn):
        return answer
    if isinstance(answer, str):
        return Turn.message(answer)
    return Turn.json(answer)
