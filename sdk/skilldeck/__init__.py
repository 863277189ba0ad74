"""skilldeck: declare skill tools and the model tier they need; run them on the cheapest fit.

Importing skilldeck is cheap: it never imports click, openai, cookiecutter or mcp, and it defers
jsonschema and the tokenizer until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from skilldeck.errors import (
    AgentSkillError,
    AnswerTruncated,
    ArgumentProblem,
    BatchError,
    BudgetExceeded,
    CasesError,
    CatalogError,
    ConfigError,
    ContextWindowExceeded,
    DeclarationError,
    DispatchError,
    DuplicateSkillError,
    EstimateError,
    ExportError,
    IncompleteAnswer,
    InvalidArguments,
    InvalidLine,
    InvalidOutput,
    InvalidProfile,
    InvalidResult,
    InvalidValue,
    MaxTurnsExceeded,
    ModelFailed,
    PlannerFailed,
    PluginError,
    PluginNotLoaded,
    RequestFailed,
    RunError,
    RunStopped,
    ScaffoldError,
    SchemaError,
    SkilldeckError,
    UnknownToolError,
    UnsupportedPattern,
)

if TYPE_CHECKING:
    from skilldeck.catalog.catalog import Catalog
    from skilldeck.catalog.profile import ModelProfile
    from skilldeck.dispatch.binding import Binding
    from skilldeck.dispatch.call import Call
    from skilldeck.dispatch.dispatcher import Dispatcher
    from skilldeck.dispatch.policy import Policy
    from skilldeck.events import Event
    from skilldeck.hookspecs import hookimpl
    from skilldeck.host.discovery import LoadError, PluginInfo
    from skilldeck.host.host import Host
    from skilldeck.interop.loading import add_agent_skills
    from skilldeck.problems import Problem
    from skilldeck.run.context import Context
    from skilldeck.run.ledger import Ledger, LedgerRecord
    from skilldeck.run.results import CallRecord, RunResult
    from skilldeck.run.runner import Runner
    from skilldeck.skill import Skill, Tool
    from skilldeck.tiers import Tier
    from skilldeck.tokens import count_tokens

__version__ = "0.1.0"

#: Every name but the errors loads on first use: the runtime imports asyncio, and the core
#: (host, schema, catalog, dispatch) is what `skilldeck --help` must not pay for, since importing
#: `skilldeck.cli` imports this package first.
_LAZY = {
    "Binding": "dispatch.binding",
    "Call": "dispatch.call",
    "CallRecord": "run.results",
    "Catalog": "catalog.catalog",
    "Context": "run.context",
    "Dispatcher": "dispatch.dispatcher",
    "Event": "events",
    "Host": "host.host",
    "Ledger": "run.ledger",
    "LedgerRecord": "run.ledger",
    "LoadError": "host.discovery",
    "ModelProfile": "catalog.profile",
    "PluginInfo": "host.discovery",
    "Policy": "dispatch.policy",
    "Problem": "problems",
    "RunResult": "run.results",
    "Runner": "run.runner",
    "Skill": "skill",
    "Tier": "tiers",
    "Tool": "skill",
    "add_agent_skills": "interop.loading",
    "count_tokens": "tokens",
    "hookimpl": "hookspecs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgentSkillError",
    "AnswerTruncated",
    "ArgumentProblem",
    "BatchError",
    "Binding",
    "BudgetExceeded",
    "Call",
    "CallRecord",
    "CasesError",
    "Catalog",
    "CatalogError",
    "ConfigError",
    "Context",
    "ContextWindowExceeded",
    "DeclarationError",
    "DispatchError",
    "Dispatcher",
    "DuplicateSkillError",
    "EstimateError",
    "Event",
    "ExportError",
    "Host",
    "IncompleteAnswer",
    "InvalidArguments",
    "InvalidLine",
    "InvalidOutput",
    "InvalidProfile",
    "InvalidResult",
    "InvalidValue",
    "Ledger",
    "LedgerRecord",
    "LoadError",
    "MaxTurnsExceeded",
    "ModelFailed",
    "ModelProfile",
    "PlannerFailed",
    "PluginError",
    "PluginInfo",
    "PluginNotLoaded",
    "Policy",
    "Problem",
    "RequestFailed",
    "RunError",
    "RunResult",
    "RunStopped",
    "Runner",
    "ScaffoldError",
    "SchemaError",
    "Skill",
    "SkilldeckError",
    "Tier",
    "Tool",
    "UnknownToolError",
    "UnsupportedPattern",
    "__version__",
    "add_agent_skills",
    "count_tokens",
    "hookimpl",
]
