"""Calibration: each model's latency parameters fitted to the requests a trace measured.

The latency model is linear in its parameters: wall time = ttft + input tokens / input_tps +
output tokens / output_tps, where the output includes the reasoning (both are sampled at the
decode rate, and the API's `output_tokens` counts them together). Ordinary least squares on
`(1, input, output)` gives `ttft`, `1 / input_tps` and `1 / output_tps`; a 3 x 3 solve in
plain Python is all it takes, so no numerical library is needed.

A fit is refused, with the reason, rather than reported wrong: too few requests
(`MIN_REQUESTS`), inputs or outputs that do not vary (the parameters cannot be told apart), or
a fit that says a rate is zero or negative, or whose 95% interval reaches zero (noise swamps
the signal: record longer requests).
Only requests that completed with the usage the server reported are used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog.values import is_number
from skilldeck.plain import plain_fields

#: Fewer requests than this per model are not fitted: three parameters need a margin of data.
MIN_REQUESTS = 8


@dataclass
class Samples:
    """The measured requests of one model, as running sums: enough for least squares, so a
    trace of any length is read in constant memory."""

    model: str
    tier: str
    count: int = 0
    #: Sums of products over (1, input, output) and the wall time `y`.
    sums: list[float] = field(default_factory=lambda: [0.0] * 10)
    inputs: set[int] = field(default_factory=set)
    outputs: set[int] = field(default_factory=set)

    def add(self, input_tokens: int, output_tokens: int, seconds: float) -> None:
        x1, x2, y = float(input_tokens), float(output_tokens), seconds
        s = self.sums
        s[0] += x1
        s[1] += x2
        s[2] += x1 * x1
        s[3] += x1 * x2
        s[4] += x2 * x2
        s[5] += y
        s[6] += x1 * y
        s[7] += x2 * y
        s[8] += y * y
        self.count += 1
        if len(self.inputs) < 3:
            self.inputs.add(input_tokens)
        if len(self.outputs) < 3:
            self.outputs.add(output_tokens)


@dataclass(frozen=True)
class Fit:
    """A model's fitted parameters and their error, or why there is no fit (`problem`)."""

    model: str
    tier: str
    requests: int
    ttft: float | None = None
    input_tps: float | None = None
    output_tps: float | None = None
    #: Root mean square error of the fitted model over the requests, in seconds.
    rmse: float | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


def collect(lines: Iterable[str], into: dict[str, Samples], notes: list[str]) -> None:
    """Add the measured requests of a trace's lines to `into` (by model id)."""
    for number, line in enumerate(lines, start=1):
        if not line.startswith('{"kind": "model_request"') and '"model_request"' not in line:
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            if len(notes) < 20:
                notes.append(f"line {number}: not JSON: skipped")
            continue
        if not isinstance(event, dict) or event.get("kind") != "model_request":
            continue
        if event.get("status") != "ok" or event.get("usage_ok") is False:
            continue
        model, tier = event.get("model"), event.get("tier")
        tokens_in, tokens_out = (
            _tokens(event.get("input_tokens")),
            _tokens(event.get("output_tokens")),
        )
        seconds = _seconds(event.get("wall_time"))
        if (
            not isinstance(model, str)
            or not isinstance(tier, str)
            or tokens_in is None
            or tokens_out is None
            or seconds is None
        ):
            if len(notes) < 20:
                notes.append(f"line {number}: a request without model, tokens or wall time")
            continue
        samples = into.setdefault(model, Samples(model, tier))
        samples.add(tokens_in, tokens_out, seconds)


def _tokens(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**12:
        return value
    return None


def _seconds(value: Any) -> float | None:
    if is_number(value) and 0 <= value < math.inf:
        return float(value)
    return None


def fit(samples: Samples, minimum: int = MIN_REQUESTS) -> Fit:
    """Least squares of wall time on (1, input, output); see the module for the refusals."""
    n, s = samples.count, samples.sums

    def refused(problem: str) -> Fit:
        return Fit(samples.model, samples.tier, n, problem=problem)

    if n < minimum:
        return refused(f"{n} measured request(s); a fit needs at least {minimum}: record more")
    if len(samples.inputs) < 2 or len(samples.outputs) < 2:
        varied = "input" if len(samples.inputs) < 2 else "output"
        return refused(
            f"every request has the same {varied} tokens: the time to first token and "
            f"the {varied} rate cannot be told apart; record requests of varied size",
        )
    matrix = [
        [float(n), s[0], s[1]],
        [s[0], s[2], s[3]],
        [s[1], s[3], s[4]],
    ]
    solved = _solve(matrix, [s[5], s[6], s[7]])
    if solved is None:
        return refused(
            "input and output tokens rise together in every request: their rates "
            "cannot be told apart; record requests whose input and output vary independently",
        )
    ttft, per_input, per_output = solved
    # Residual sum of squares from the sums alone: y'y - 2 b'X'y + b'X'X b.
    coefficients = (ttft, per_input, per_output)
    xty = (s[5], s[6], s[7])
    explained = sum(b * v for b, v in zip(coefficients, xty, strict=True))
    quadratic = sum(
        coefficients[i] * matrix[i][j] * coefficients[j] for i in range(3) for j in range(3)
    )
    rmse = math.sqrt(max(s[8] - 2 * explained + quadratic, 0.0) / n)
    if -max(rmse, 1e-6) <= ttft < 0:  # a first token at about no time, within the fit's error
        ttft = 0.0
    if per_input <= 0 or per_output <= 0 or ttft < 0:
        return refused(
            f"the fit gives ttft {ttft:.3g} s, {per_input:.3g} s per input token and "
            f"{per_output:.3g} s per output token: noise swamps the signal (a rate must be > 0, "
            "ttft >= 0); record more, and longer, requests",
        )
    # A positive rate is not yet a measured one: where noise swamps a term, least squares still
    # returns some tiny positive time per token, i.e. an absurd rate (1e18 tokens/s). A rate is
    # kept only when its 95% interval (two standard errors) stays above zero.
    variance = max(s[8] - 2 * explained + quadratic, 0.0) / max(n - 3, 1)
    for index, (what, value) in enumerate((("input", per_input), ("output", per_output)), 1):
        unit = [1.0 if row == index else 0.0 for row in range(3)]
        inverse = _solve(matrix, unit)
        error = 2 * math.sqrt(max(variance * inverse[index], 0.0)) if inverse else math.inf
        if value - error <= 0:
            return refused(
                f"the {what} rate is not measured: {value:.3g} s per {what} token, give or "
                f"take {error:.3g} s (95%), may be zero: noise swamps the {what}'s effect; "
                f"record requests whose {what} tokens vary more, or more requests",
            )
    return Fit(
        samples.model,
        samples.tier,
        n,
        ttft=ttft,
        input_tps=1 / per_input,
        output_tps=1 / per_output,
        rmse=rmse,
    )


def _solve(matrix: list[list[float]], vector: list[float]) -> tuple[float, float, float] | None:
    """Gaussian elimination with partial pivoting on columns scaled to unit size (token
    counts are millions of times the intercept's 1); None when the system is singular."""
    size = len(vector)
    scale = [math.sqrt(matrix[i][i]) or 1.0 for i in range(size)]
    a = [
        [matrix[i][j] / (scale[i] * scale[j]) for j in range(size)] + [vector[i] / scale[i]]
        for i in range(size)
    ]
    for column in range(size):
        pivot = max(range(column, size), key=lambda row: abs(a[row][column]))
        if abs(a[pivot][column]) < 1e-10:
            return None
        a[column], a[pivot] = a[pivot], a[column]
        for row in range(size):
            if row != column:
                factor = a[row][column] / a[column][column]
                a[row] = [x - factor * y for x, y in zip(a[row], a[column], strict=True)]
    x = [a[i][size] / a[i][i] / scale[i] for i in range(size)]
    return x[0], x[1], x[2]
