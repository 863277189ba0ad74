"""skilldeck: declare skill tools and the model tier they need; run them on the cheapest fit.

Importing skilldeck is cheap: it never imports click, openai, cookiecutter or mcp, and it defers
jsonschema and the tokenizer until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .binding import Binding
from .catalog import Catalog, ModelProfile
from .context import Context
from .dispatch import Call, Dispatcher, Policy
from .errors import (
    BudgetExceeded,
    CatalogError,
    ContextWindowExceeded,
    DeclarationError,
    DispatchError,
    DuplicateSkillError,
    PluginError,
    RunError,
    SchemaError,
    SkilldeckError,
    UnknownToolError,
)
from .events import Event
from .hookspecs import hookimpl
from .host import Host, LoadError, PluginInfo
from .problems import Problem
from .skill import Skill, Tool
from .tiers import Tier
from .tokens import count_tokens

if TYPE_CHECKING:
    from .ledger import Ledger, LedgerRecord
    from .runtime import (
        CallRecord,
        IncompleteAnswer,
        MaxTurnsExceeded,
        ModelFailed,
        Runner,
        RunResult,
        RunStopped,
    )

__version__ = "0.1.0"

#: The runtime imports asyncio: it loads on first use, so `import skilldeck` stays cheap for
#: plugins and the CLI.
_LAZY = {
    "CallRecord": "runtime",
    "IncompleteAnswer": "runtime",
    "Ledger": "ledger",
    "LedgerRecord": "ledger",
    "MaxTurnsExceeded": "runtime",
    "ModelFailed": "runtime",
    "RunResult": "runtime",
    "RunStopped": "runtime",
    "Runner": "runtime",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Binding",
    "BudgetExceeded",
    "Call",
    "CallRecord",
    "Catalog",
    "CatalogError",
    "Context",
    "ContextWindowExceeded",
    "DeclarationError",
    "DispatchError",
    "Dispatcher",
    "DuplicateSkillError",
    "Event",
    "Host",
    "IncompleteAnswer",
    "Ledger",
    "LedgerRecord",
    "LoadError",
    "MaxTurnsExceeded",
    "ModelFailed",
    "ModelProfile",
    "PluginError",
    "PluginInfo",
    "Policy",
    "Problem",
    "RunError",
    "RunResult",
    "RunStopped",
    "Runner",
    "SchemaError",
    "Skill",
    "SkilldeckError",
    "Tier",
    "Tool",
    "UnknownToolError",
    "__version__",
    "count_tokens",
    "hookimpl",
]
