"""Every exception skilldeck raises, in one hierarchy, so a host app catches them all with one
clause and finds each in one place.

Every message names the thing at fault and, where there is one, the way to fix it: these errors
reach people through the CLI unchanged. Where a caller needs the parts of a message (a plugin
that re-addresses a schema problem to the model, a catalog that adds the file and key), the
error carries them as fields, so no caller ever parses a message.

This module imports nothing of skilldeck: it is the floor every other module stands on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AgentSkillError",
    "AnswerTruncated",
    "ArgumentProblem",
    "BatchError",
    "BudgetExceeded",
    "CasesError",
    "CatalogError",
    "ConfigError",
    "ContextWindowExceeded",
    "DeclarationError",
    "DispatchError",
    "DuplicateSkillError",
    "EstimateError",
    "ExportError",
    "IncompleteAnswer",
    "InvalidArguments",
    "InvalidLine",
    "InvalidOutput",
    "InvalidProfile",
    "InvalidResult",
    "InvalidValue",
    "MaxTurnsExceeded",
    "ModelFailed",
    "PlannerFailed",
    "PluginError",
    "PluginNotLoaded",
    "RequestFailed",
    "RunError",
    "RunStopped",
    "ScaffoldError",
    "SchemaError",
    "SkilldeckError",
    "UnknownToolError",
    "UnsupportedPattern",
    "describe",
]


class SkilldeckError(Exception):
    """The root of every error skilldeck raises on purpose."""


def describe(error: BaseException) -> str:
    """`TypeError: message`: an error as one line for a report, naming its kind, since a
    plugin's or handler's message alone ("'NoneType' object...") rarely says what failed."""
    return f"{type(error).__name__}: {error}"


# -- declaring ---------------------------------------------------------------------------------


class DeclarationError(SkilldeckError):
    """A skill or tool was declared wrongly (bad name, bad tier, bad schema...)."""


class SchemaError(DeclarationError):
    """A type or a schema that cannot be made strict for the Responses API, or that is over the
    walker's budget.

    `path` is where (`$.properties.tags`, or "" when the whole schema is at fault), `reason`
    what is wrong, `advice` what the author can do. A schema written by a model (the triage
    plugin's `extract`) is answered with `path` and `reason` alone: the advice is for authors.
    `where` names the declaration at fault when the schema comes from Python code (a function,
    a parameter, a field): `run: parameter 'tree' ($.tree.children): reason; advice`.
    """

    def __init__(self, reason: str, *, path: str = "", advice: str = "", where: str = "") -> None:
        self.path = path
        self.reason = reason
        self.advice = advice
        self.where = where
        place = f"{where} ({path})" if where and path else where or path
        text = f"{place}: {reason}" if place else reason
        super().__init__(f"{text}; {advice}" if advice else text)


class CasesError(DeclarationError):
    """A cases file that cannot be read: the message names the file, the case and the key."""


class AgentSkillError(DeclarationError):
    """A SKILL.md folder that cannot be read or loaded: the message names its path."""


# -- settings and catalog ----------------------------------------------------------------------


class ConfigError(SkilldeckError):
    """A settings file cannot be read, is not valid TOML, or holds a value that is wrong."""


class CatalogError(ConfigError):
    """A model catalog or one of its overrides is malformed. A `ConfigError` too: most come
    from the settings file or the environment, and `except ConfigError` should catch every
    bad setting, prices included."""


class InvalidProfile(CatalogError):
    """A profile whose values contradict each other; the catalog re-raises it with the place
    (file or variable, and key) the contradicting value came from."""

    def __init__(self, key: str, problem: str, *, model: str, tier: str) -> None:
        super().__init__(f"model profile {model!r} ({tier}): {key}: {problem}")
        self.key = key
        self.problem = problem


class InvalidValue(CatalogError):
    """A settings value that does not parse; the caller adds where it was found."""


# -- plugins and the host ----------------------------------------------------------------------


class PluginError(SkilldeckError):
    """A plugin failed to load or to register, or two plugins clash."""


class DuplicateSkillError(PluginError):
    """Two plugins registered a skill under the same name."""


class UnknownToolError(SkilldeckError, LookupError):
    """A skill or tool name that the host does not hold."""


class PluginNotLoaded(UnknownToolError, PluginError):
    """A skill or tool name the host does not hold because the plugin that gives it (or whose
    name it matches) failed to load: `plugins` names them, and the message says why each
    failed. The name was right; the installation is at fault."""

    def __init__(self, message: str, plugins: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.plugins: tuple[str, ...] = tuple(plugins)


# -- dispatching -------------------------------------------------------------------------------


class DispatchError(SkilldeckError):
    """A call could not be bound to any model."""


class ContextWindowExceeded(DispatchError):
    """A call is too large for every model its tool may use; skilldeck never truncates."""


class BudgetExceeded(DispatchError):
    """A call or a run would cost more than the policy allows."""


class InvalidLine(SkilldeckError):
    """A workload line that is not a call: bad JSON, or a key of the wrong shape."""


class BatchError(SkilldeckError):
    """A Batch API job that cannot go on: its state file is missing, unreadable or another
    workload's, or the service refused a step (an upload, a batch, a download)."""


# -- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArgumentProblem:
    """One thing wrong with a call's arguments, at a JSON path such as `$.labels[2]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class InvalidArguments(SkilldeckError):
    """The arguments of a call are not JSON, not an object, or do not match the schema."""

    def __init__(self, message: str, problems: Iterable[ArgumentProblem] = ()) -> None:
        self.message = message
        self.problems: tuple[ArgumentProblem, ...] = tuple(problems)
        lines = [message, *(f"  {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))

    def to_output(self) -> dict[str, Any]:
        """What goes back to the model as the call's output, so it can correct the call."""
        return {
            "error": "invalid_arguments",
            "message": self.message,
            "problems": [problem.to_dict() for problem in self.problems],
        }


class RunError(SkilldeckError):
    """A run could not complete."""


class InvalidOutput(RunError):
    """A model's answer that is not JSON or fails its output schema."""


class InvalidResult(RunError):
    """A handler's return value that cannot go back to the model as it is: not JSON, or not
    what the handler's return annotation says. `location` is where in the value, as keys and
    indexes (empty: all of it); the call answers the model with an `invalid_result` output,
    never with the value."""

    def __init__(self, message: str, *, location: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class RequestFailed(RunError):
    """An API error after the client's own retries, or a failed answer: worth a tier up."""


class AnswerTruncated(RunError):
    """An answer cut short (by max_output_tokens): the same limit would cut any tier short."""


class ModelFailed(RunError):
    """A model request failed on every tier the call could escalate to."""


class RunStopped(RunError):
    """The run ended without a usable final answer; `.result` keeps the partial run (a
    `RunResult`: its calls, ledger and transcript so far)."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class MaxTurnsExceeded(RunStopped):
    """The planner did not answer within `max_turns`."""


class IncompleteAnswer(RunStopped):
    """The planner's answer was cut short or failed (status other than completed)."""


class PlannerFailed(RunStopped, RequestFailed):
    """A tool loop's turn (the planner's, or a nested `ctx.run`'s) failed after the client's
    retries; `.result` keeps the run so far. Also a `RequestFailed`, as it was before it
    carried the run."""


# -- authoring and testing ---------------------------------------------------------------------


class ScaffoldError(SkilldeckError):
    """A project that cannot be created as asked: the message says why and what to do."""


class ExportError(SkilldeckError):
    """A skill that cannot be written in the format asked: the message says why and what to do."""


class EstimateError(SkilldeckError):
    """A trace or workload that cannot be estimated or calibrated from, or a `--what-if`
    that does not parse: the message says which line or change, and what is expected."""


class UnsupportedPattern(SkilldeckError):
    """A regular-expression construct the schema sampler does not produce text for."""
