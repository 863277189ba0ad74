"""skilldeck: declare skill tools and the model tier they need; run them on the cheapest fit.

Importing skilldeck is cheap: it never imports click, openai, cookiecutter or mcp, and it defers
jsonschema and the tokenizer until they are used.
"""

from __future__ import annotations

from .context import Context
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

__version__ = "0.1.0"

__all__ = [
    "BudgetExceeded",
    "CatalogError",
    "Context",
    "ContextWindowExceeded",
    "DeclarationError",
    "DispatchError",
    "DuplicateSkillError",
    "Event",
    "Host",
    "LoadError",
    "PluginError",
    "PluginInfo",
    "Problem",
    "RunError",
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
