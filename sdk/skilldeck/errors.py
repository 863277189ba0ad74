"""One exception hierarchy, so a host app can catch everything skilldeck raises with one clause.

Every message names the thing at fault and, where there is one, the way to fix it: these
errors reach people through the CLI unchanged.
"""

from __future__ import annotations


class SkilldeckError(Exception):
    """The root of every error skilldeck raises on purpose."""


class DeclarationError(SkilldeckError):
    """A skill or tool was declared wrongly (bad name, bad tier, bad schema...)."""


class SchemaError(DeclarationError):
    """A parameter type or an explicit schema cannot be made strict for the Responses API."""


class PluginError(SkilldeckError):
    """A plugin failed to load or to register, or two plugins clash."""


class DuplicateSkillError(PluginError):
    """Two plugins registered a skill under the same name."""


class UnknownToolError(SkilldeckError, LookupError):
    """A skill or tool name that the host does not hold."""


class CatalogError(SkilldeckError):
    """A model catalog or one of its overrides is malformed."""


class DispatchError(SkilldeckError):
    """A call could not be bound to any model."""


class ContextWindowExceeded(DispatchError):
    """A call is too large for every model its tool may use; skilldeck never truncates."""


class BudgetExceeded(DispatchError):
    """A call or a run would cost more than the policy allows."""


class RunError(SkilldeckError):
    """A run could not complete."""
