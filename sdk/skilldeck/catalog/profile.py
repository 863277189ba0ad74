"""The facts of one model: windows, prices, efforts, capabilities and latency parameters.

A profile checks itself when made, so a catalog never holds one whose window is smaller than
its max input, or whose default effort it does not offer.

The Responses API's service tiers (`SERVICE_TIERS`) are priced here too, as multipliers of the
profile's prices: a price is a model's fact, and the tier a request ran on only scales it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog.values import is_finite, is_int
from skilldeck.errors import InvalidProfile, InvalidValue
from skilldeck.plain import plain_fields
from skilldeck.tiers import EFFORTS, Tier

_PER_MILLION = 1_000_000

#: Reasoning tokens per effort when a profile names none: the packaged catalog's figures.
DEFAULT_REASONING_TOKENS: tuple[tuple[str, int], ...] = (
    ("none", 0),
    ("minimal", 64),
    ("low", 256),
    ("medium", 1_024),
    ("high", 3_072),
    ("xhigh", 8_192),
)

#: Prices are below this many US dollars per 1,000,000 tokens: far above any real model's,
#: low enough that no usage a request can report prices to `inf` (or to `Infinity` in JSON).
MAX_PRICE = 1_000_000.0
#: Token figures of a profile (reasoning per effort) are at most this: no window is larger.
MAX_TOKENS = 100_000_000
#: Long-context multipliers are at most this: the same reason, for the prices they multiply.
MAX_MULTIPLIER = 100.0

#: The `service_tier` values a Responses request may send: `auto` (the project's setting,
#: `default` unless configured otherwise), `default` (standard processing), `flex` (cheaper,
#: slower, may be refused for lack of capacity) and `priority` (faster, dearer).
SERVICE_TIERS: tuple[str, ...] = ("auto", "default", "flex", "priority")


#: Not a service tier a request sends: what the ledger prices a Batch API request at
#: (`batch_price_multiplier`), in place of one.
BATCH = "batch"


def service_tier_name(value: Any) -> str:
    """One of `SERVICE_TIERS`, or `InvalidValue` listing them."""
    if isinstance(value, str) and value.strip().lower() in SERVICE_TIERS:
        return value.strip().lower()
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    raise InvalidValue(f"expected a service tier: one of {', '.join(SERVICE_TIERS)}; got {shown}")


@dataclass(frozen=True, slots=True)
class LongContextPricing:
    """A request whose input exceeds `threshold` tokens is billed at these multiples, whole."""

    threshold: int
    input_multiplier: float
    output_multiplier: float

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """The facts of one model that dispatching, pricing and latency estimates rest on.

    Prices are US dollars per 1,000,000 tokens. `ttft` (seconds), `input_tps` and `output_tps`
    (tokens per second) are estimates for offline latency predictions, not guarantees.
    """

    tier: Tier
    model: str
    window: int
    max_input: int
    max_output: int
    input_price: float
    cached_input_price: float
    output_price: float
    efforts: tuple[str, ...] = ("none", "low", "medium", "high", "xhigh")
    capabilities: frozenset[str] = frozenset(
        {"text_input", "function_calling", "structured_output"}
    )
    ttft: float = 1.0
    input_tps: float = 10_000.0
    output_tps: float = 50.0
    #: Reasoning tokens a request is expected to sample at each effort, as `(effort, tokens)`
    #: pairs: estimates for latency and cost predictions (`expected_reasoning_tokens`).
    reasoning_tokens: tuple[tuple[str, int], ...] = DEFAULT_REASONING_TOKENS
    long_context: LongContextPricing | None = None
    #: What a request processed on the `flex` service tier pays, as a multiple of the prices
    #: above (OpenAI bills flex at batch rates, half the standard prices).
    flex_price_multiplier: float = 0.5
    #: The same for the `priority` service tier: an estimate, check the provider's pricing.
    priority_price_multiplier: float = 2.0
    #: What a request sent through the Batch API pays (`skilldeck batch`), as a multiple of
    #: the prices above: OpenAI bills batches at half the standard prices.
    batch_price_multiplier: float = 0.5
    #: The effort sent when a tool declares none; None leaves it to the API's default.
    default_effort: str | None = None
    #: An OpenAI-compatible endpoint for this model; None means the client's default.
    base_url: str | None = None
    #: Where the profile and each override came from, for `skilldeck models`.
    source: str = field(default="code", compare=False)

    def __post_init__(self) -> None:
        problem = profile_problem(self)
        if problem is not None:
            raise InvalidProfile(problem[0], problem[1], model=self.model, tier=str(self.tier))

    def fits(self, input_tokens: int, reserved_output: int) -> str | None:
        """Why this model cannot take the call (dispatcher rule 4), or None when it can."""
        if input_tokens > self.max_input:
            return f"{input_tokens:,} input tokens exceed {self.model}'s {self.max_input:,}"
        if reserved_output > self.max_output:
            return (
                f"{reserved_output:,} reserved output tokens exceed {self.model}'s "
                f"max output of {self.max_output:,}"
            )
        if input_tokens + reserved_output > self.window:
            return (
                f"{input_tokens:,} input + {reserved_output:,} reserved output tokens exceed "
                f"{self.model}'s window of {self.window:,}"
            )
        return None

    def missing(self, capabilities: frozenset[str]) -> frozenset[str]:
        return capabilities - self.capabilities

    def cost(
        self,
        input_tokens: int,
        output_tokens: int = 0,
        cached_tokens: int = 0,
        service_tier: str | None = None,
    ) -> float:
        """US dollars for one request. `input_tokens` includes the cached ones, as the API's
        usage reports them; the long-context rule multiplies the whole request's prices, and
        so does the service tier it ran on (`price_multiplier`)."""
        input_multiplier = output_multiplier = 1.0
        rule = self.long_context
        if rule is not None and input_tokens > rule.threshold:
            input_multiplier, output_multiplier = rule.input_multiplier, rule.output_multiplier
        cached = min(max(cached_tokens, 0), input_tokens)
        dollars = (
            (input_tokens - cached) * self.input_price * input_multiplier
            + cached * self.cached_input_price * input_multiplier
            + output_tokens * self.output_price * output_multiplier
        )
        return dollars * self.price_multiplier(service_tier) / _PER_MILLION

    def price_multiplier(self, service_tier: str | None) -> float:
        """The multiple of the prices a request on `service_tier` pays: `flex` and `priority`
        have their own; `auto`, `default` and none pay the prices as they are."""
        if service_tier == "flex":
            return self.flex_price_multiplier
        if service_tier == "priority":
            return self.priority_price_multiplier
        if service_tier == BATCH:
            return self.batch_price_multiplier
        return 1.0

    def estimated_seconds(
        self,
        input_tokens: int,
        output_tokens: int,
        reasoning_tokens: int | None = None,
        effort: str | None = None,
        tool_seconds: float = 0.0,
    ) -> float:
        """Estimated seconds of one request: the time to its first token, reading the input at
        the prefill rate, sampling the output and the reasoning at the decode rate, plus the
        tool's own time.

        `output_tokens` is the visible answer alone: the Responses API's
        `usage.output_tokens` includes the reasoning, so pass `output_tokens -
        reasoning_tokens` for a request that ran. `reasoning_tokens=None` means the number is
        unknown and `expected_reasoning_tokens(effort)` stands in for it. The parameters are
        estimates (`skilldeck calibrate` fits them to measured requests): real latency varies
        with load, region and the prompt.
        """
        reasoning = (
            self.expected_reasoning_tokens(effort) if reasoning_tokens is None else reasoning_tokens
        )
        return (
            self.ttft
            + max(input_tokens, 0) / self.input_tps
            + (max(output_tokens, 0) + max(reasoning, 0)) / self.output_tps
            + tool_seconds
        )

    def expected_reasoning_tokens(self, effort: str | None) -> int:
        """The reasoning tokens a request at `effort` is expected to sample: the catalog's
        figure for the effort this model would run (`effort_for`; None is the model's default,
        and with no default the API's, `none` for the GPT-5.4 family), else that of the
        nearest listed effort below it, else 0; never more than the model's max output."""
        wanted = self.effort_for(effort) or "none"
        table = dict(self.reasoning_tokens)
        rank = EFFORT_ORDER.get(wanted, 0)
        below = [name for name in table if EFFORT_ORDER.get(name, 0) <= rank]
        if not below:
            return 0
        return min(table[max(below, key=EFFORT_ORDER.__getitem__)], self.max_output)

    def latency(self, input_tokens: int, output_tokens: int, tool_seconds: float = 0.0) -> float:
        """Estimated seconds at most: `output_tokens` is a reservation (`max_output_tokens`),
        which the reasoning is part of, so none is added."""
        return self.estimated_seconds(input_tokens, output_tokens, 0, tool_seconds=tool_seconds)

    def effort_for(self, wanted: str | None) -> str | None:
        """The effort to send: `wanted` when this model has it, else the nearest one above it
        (or its highest), so that a declared effort is never silently weakened."""
        if wanted is None:
            return self.default_effort
        if wanted in self.efforts:
            return wanted
        rank = EFFORT_ORDER.get(wanted, 0)
        above = [effort for effort in self.efforts if EFFORT_ORDER.get(effort, 0) >= rank]
        if above:
            return min(above, key=lambda effort: EFFORT_ORDER.get(effort, 0))
        return max(self.efforts, key=lambda effort: EFFORT_ORDER.get(effort, 0))

    def replace(self, **changes: Any) -> ModelProfile:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, for `skilldeck models --json` and reports."""
        return {**plain_fields(self), "reasoning_tokens": dict(self.reasoning_tokens)}


EFFORT_ORDER = {effort: rank for rank, effort in enumerate(EFFORTS)}


def profile_problem(profile: ModelProfile) -> tuple[str, str] | None:
    """The first inconsistent key of a profile and what is wrong with it."""
    if not isinstance(profile.tier, Tier):
        return "tier", f"expected a Tier, got {profile.tier!r}"
    if not isinstance(profile.model, str) or not profile.model.strip():
        return "model", f"expected a non-empty string, got {profile.model!r}"
    for key in ("window", "max_input", "max_output"):
        value = getattr(profile, key)
        if not is_int(value) or value <= 0:
            return key, f"expected a positive integer, got {value!r}"
    for key in ("input_price", "cached_input_price", "output_price"):
        value = getattr(profile, key)
        if not is_finite(value) or not 0 <= value < MAX_PRICE:
            return key, (
                f"expected a price from 0 to below {MAX_PRICE:,.0f} US dollars per 1M tokens, "
                f"got {value!r}"
            )
    if not is_finite(profile.ttft) or profile.ttft < 0:
        return "ttft", f"expected a finite number >= 0, got {profile.ttft!r}"
    for key in ("input_tps", "output_tps"):
        value = getattr(profile, key)
        if not is_finite(value) or value <= 0:
            return key, f"expected a finite number > 0, got {value!r}"
    pairs = profile.reasoning_tokens
    if not isinstance(pairs, tuple) or not all(
        isinstance(pair, tuple) and len(pair) == 2 for pair in pairs
    ):
        return "reasoning_tokens", f"expected (effort, tokens) pairs, got {pairs!r:.60}"
    for effort, tokens in pairs:
        if effort not in EFFORT_ORDER or not is_int(tokens) or not 0 <= tokens <= MAX_TOKENS:
            return "reasoning_tokens", (
                f"{effort}: expected an effort and a number of tokens from 0 to "
                f"{MAX_TOKENS:,}, got {tokens!r}"
            )
    rule = profile.long_context
    if rule is not None:
        for key in ("input_multiplier", "output_multiplier"):
            value = getattr(rule, key)
            if not is_finite(value) or not 0 < value <= MAX_MULTIPLIER:
                return "long_context", (
                    f"{key}: expected a number > 0 and at most {MAX_MULTIPLIER:g}, got {value!r}"
                )
    for key in ("flex_price_multiplier", "priority_price_multiplier", "batch_price_multiplier"):
        value = getattr(profile, key)
        if not is_finite(value) or not 0 < value <= MAX_MULTIPLIER:
            return key, f"expected a number > 0 and at most {MAX_MULTIPLIER:g}, got {value!r}"
    if not profile.efforts:
        return "efforts", "expected at least one effort"
    if profile.max_input > profile.window:
        return "max_input", f"max_input {profile.max_input:,} exceeds window {profile.window:,}"
    if profile.max_output > profile.window:
        return "max_output", (
            f"max_output {profile.max_output:,} exceeds window {profile.window:,}"
        )
    if profile.default_effort is not None and profile.default_effort not in profile.efforts:
        return "default_effort", (
            f"default_effort {profile.default_effort!r} is not among efforts "
            f"{', '.join(profile.efforts)}"
        )
    return None
