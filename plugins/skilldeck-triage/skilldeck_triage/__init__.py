"""Triage on nano: classification, extraction and ranking, the narrow subtasks that the
smallest tier does fast and cheaply while a larger planner coordinates."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from skilldeck import Context, Skill, hookimpl
from skilldeck.errors import SchemaError
from skilldeck.schema.strict import to_strict

skill = Skill(
    "triage",
    "Classify text into given labels, extract fields that a JSON Schema describes, and rank "
    "candidates against a query. Use for high-volume, narrow judgements.",
    instructions="""
    You are a precise triage assistant. Answer only from the text you are given; never invent
    facts. When the text does not support an answer, say so in the reason.
    """,
)


@dataclass
class Classification:
    """The labels chosen for a text, from the labels offered."""

    labels: list[str]
    confidence: float
    reason: str


@dataclass
class RankedCandidate:
    index: int
    candidate: str
    score: float


@dataclass
class Ranking:
    ranked: list[RankedCandidate]


def _label_schema(labels: list[str], multi_label: bool) -> dict[str, Any]:
    """The answer may only use the offered labels: the schema's enum enforces it."""
    return {
        "type": "object",
        "properties": {
            "labels": {
                "type": "array",
                "items": {"type": "string", "enum": labels},
                "minItems": 1,
                **({} if multi_label else {"maxItems": 1}),
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string"},
        },
        "required": ["labels", "confidence", "reason"],
        "additionalProperties": False,
    }


BUG_REPORT = (
    "Since 2.3 the export button does nothing on Safari 18; the console shows "
    "'TypeError: navigator.clipboard is undefined'. Works in Firefox."
)


@skill.tool(
    tier="nano",
    effort="low",
    max_output_tokens=1_000,
    ceiling="mini",
    examples=[
        {
            "text": BUG_REPORT,
            "labels": ["bug", "feature request", "question"],
            "multi_label": False,
        }
    ],
)
async def classify(
    ctx: Context,
    text: str,
    labels: Annotated[list[str], "The labels to choose from, at least two."],
    multi_label: bool = False,
) -> Classification:
    """Classify a text into one of the given labels (or several, with multi_label).

    Args:
        text: The text to classify.
        labels: The labels to choose from.
        multi_label: Whether more than one label may apply.
    """
    if len(set(labels)) < 2:
        raise ValueError("give at least two distinct labels to choose from")
    answer = await ctx.respond(
        f"Labels: {json.dumps(labels)}\n\nText:\n{text}",
        instructions="Choose the label(s) that fit the text best.",
        output=_label_schema(labels, multi_label),
    )
    return Classification(**answer)


@skill.tool(
    tier="nano",
    effort="low",
    max_output_tokens=4_000,
    examples=[
        {
            "text": BUG_REPORT,
            "fields_schema": json.dumps(
                {
                    "type": "object",
                    "properties": {
                        "browser": {"type": ["string", "null"]},
                        "version": {"type": ["string", "null"]},
                        "error": {"type": ["string", "null"]},
                    },
                }
            ),
        }
    ],
)
async def extract(ctx: Context, text: str, fields_schema: str) -> dict[str, Any]:
    """Extract the fields a JSON Schema describes from a text.

    Args:
        text: The text to extract from.
        fields_schema: A JSON Schema object, as a JSON string, describing the fields to extract.
            Fields the text does not state should be nullable.
    """
    result: dict[str, Any] = await ctx.respond(
        text,
        instructions="Extract exactly the fields of the schema; use null for what is not stated.",
        output=parse_fields_schema(fields_schema),
    )
    return result


_FIELDS_SCHEMA_HINT = (
    'send a JSON object that lists every field under "properties", e.g. '
    '{"type": "object", "properties": {"browser": {"type": ["string", "null"]}}}'
)


def parse_fields_schema(fields_schema: str) -> dict[str, Any]:
    """The strict output schema for `extract`, or a ValueError addressed to the model.

    The schema comes from the model, so its faults are the model's to fix: the message says
    where and what was wrong and what to send instead, and leaves out the error's advice,
    which is meant for plugin authors (the model cannot redeclare the tool).
    """
    try:
        parsed = json.loads(fields_schema)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"fields_schema is not valid JSON ({error}); {_FIELDS_SCHEMA_HINT}"
        ) from None
    except RecursionError:  # json nests deeper than the parser's stack
        raise ValueError(f"fields_schema nests too deeply to read; {_FIELDS_SCHEMA_HINT}") from None
    try:
        return to_strict(parsed)
    except SchemaError as error:
        fault = f"{error.path}: {error.reason}" if error.path else error.reason
        raise ValueError(
            f"fields_schema cannot be used to extract fields: {fault}; {_FIELDS_SCHEMA_HINT}"
        ) from None


@skill.tool(
    tier="nano",
    effort="low",
    max_output_tokens=2_000,
    examples=[
        {
            "query": "clipboard export fails on Safari",
            "candidates": [
                "Safari blocks navigator.clipboard outside user gestures",
                "Firefox PDF export is slow",
                "Export button hidden on small screens",
            ],
            "top_k": 2,
        }
    ],
)
async def rank(
    ctx: Context, query: str, candidates: list[str], top_k: int | None = None
) -> Ranking:
    """Rank candidates by relevance to a query, most relevant first.

    Args:
        query: What the candidates are ranked against.
        candidates: The candidates, in any order.
        top_k: Keep only this many of the best; all when null.
    """
    if not candidates:
        raise ValueError("give at least one candidate to rank")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, or null to keep every candidate, not {top_k}")
    listing = "\n".join(f"[{i}] {candidate}" for i, candidate in enumerate(candidates))
    answer = await ctx.respond(
        f"Query: {query}\n\nCandidates:\n{listing}",
        instructions="Score every candidate from 0 to 1 for relevance to the query.",
        output=Ranking,
    )
    return _ordered(answer, candidates, top_k)


def _ordered(answer: Ranking, candidates: list[str], top_k: int | None) -> Ranking:
    """Trust the model for scores, not for bookkeeping: indices are checked and the order and
    cut are applied here."""
    seen: dict[int, RankedCandidate] = {}
    for item in answer.ranked:
        if 0 <= item.index < len(candidates) and item.index not in seen:
            seen[item.index] = RankedCandidate(item.index, candidates[item.index], item.score)
    ranked = sorted(seen.values(), key=lambda r: (-r.score, r.index))
    return Ranking(ranked[:top_k] if top_k is not None else ranked)


@hookimpl
def skilldeck_register_skills(register: Callable[[Skill], None]) -> None:
    register(skill)
