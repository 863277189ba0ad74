"""Run one tool call of a plugin with scripted model answers: the heart of a skill's tests.

The call goes through the real runtime (validation, binding, the handler, `ctx.respond` with
the real `openai` client over HTTP to the fake server), so what a test sees is what a run does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import ArgumentProblem
from skilldeck.host.host import Host
from skilldeck.project.loading import load_project, project_name
from skilldeck.run.ledger import Ledger
from skilldeck.run.results import CallRecord, RunResult
from skilldeck.run.runner import Runner
from skilldeck.testing.fake_server import FakeResponsesServer
from skilldeck.testing.script import Fault, RecordedRequest, Turn

__all__ = ["ToolRun", "call_error", "host_for_project", "run_tool", "scripted"]


@dataclass
class ToolRun:
    """One tool call's result, binding, escalations and ledger, with assertions that read well
    and explain themselves when they fail."""

    result: RunResult
    requests: list[RecordedRequest]

    @property
    def call(self) -> CallRecord:
        return self.result.calls[0]

    @property
    def value(self) -> Any:
        """What the handler returned, as a Python value (None when the call failed)."""
        return self.call.value

    @property
    def output(self) -> str:
        """What a planner would have received: the result or the structured error, as text."""
        return self.call.output

    @property
    def error(self) -> str | None:
        """Why the call failed, or None. Arguments that do not match the tool's parameters
        are listed each with its path, as the model got them: a count alone fixes nothing."""
        return call_error(self.call)

    @property
    def problems(self) -> list[ArgumentProblem]:
        """What was wrong with the arguments, each at its JSON path; empty unless the call
        failed on them."""
        return self.call.problems

    @property
    def binding(self) -> Binding | None:
        return self.call.binding

    @property
    def escalations(self) -> list[str]:
        return self.call.escalations

    @property
    def ledger(self) -> Ledger:
        return self.result.ledger

    @property
    def cost(self) -> float:
        return self.result.ledger.cost

    def assert_ok(self) -> ToolRun:
        if self.error is not None:
            raise AssertionError(f"{self.call.tool} failed: {self.error}")
        return self

    def assert_tier(self, tier: str) -> ToolRun:
        actual = self.binding.tier.value if self.binding and self.binding.tier else "local"
        if actual != tier:
            reasons = "; ".join(self.binding.reasons) if self.binding else "not bound"
            raise AssertionError(f"{self.call.tool} ran on {actual}, not {tier}: {reasons}")
        return self

    def assert_escalated(self, to: str | None = None) -> ToolRun:
        if not self.escalations:
            raise AssertionError(f"{self.call.tool} did not escalate")
        if to is not None:
            self.assert_tier(to)
        return self

    def assert_cost_below(self, dollars: float) -> ToolRun:
        if self.cost >= dollars:
            raise AssertionError(f"{self.call.tool} cost ${self.cost:.6f}, not below ${dollars}")
        return self


def call_error(call: CallRecord) -> str | None:
    """A failed call's error on one line with every argument problem and its path, e.g.
    `... (2 problems): $.text: expected string, got 3; $.n: ...`; None for a call that was ok."""
    if call.error is None:
        return None
    missing = [str(p) for p in call.problems if str(p) not in call.error]
    return f"{call.error}: {'; '.join(missing)}" if missing else call.error


def scripted(outputs: Iterable[Any]) -> list[Turn | Fault]:
    """Model answers as the fake server's turns: dicts and lists answer as JSON, strings as
    text; `Turn` and `Fault` objects pass as they are."""
    turns: list[Turn | Fault] = []
    for output in outputs:
        if isinstance(output, Turn | Fault):
            turns.append(output)
        elif isinstance(output, str):
            turns.append(Turn.message(output))
        else:
            turns.append(Turn.json(output))
    return turns


def run_tool(
    host: Host,
    server: FakeResponsesServer,
    name: str,
    arguments: Mapping[str, Any],
    outputs: Sequence[Any] = (),
    *,
    policy: Policy | None = None,
) -> ToolRun:
    """Run `name` once with `arguments`; the model answers with `outputs`, in order, whatever
    tier asks (the client does not retry, so a scripted `Fault` is met exactly once)."""
    server.reset()
    server.script(scripted(outputs))
    runner = Runner(
        host,
        tools=[name],
        policy=policy,
        client=lambda profile: server.async_client(max_retries=0),
    )
    result = runner.call_sync(name, arguments)
    return ToolRun(result, server.requests)


def host_for_project(path: Path, distribution: str | None = None) -> Host:
    """A host holding only the plugin of the project at `path`: from its installed entry
    points when it is installed, else imported from the source tree."""
    own = project_name(path)
    name = distribution or own
    if name is not None:
        host = Host(only=[name])
        if host.plugins() and not host.load_errors:
            return host
        if name != own:
            raise AssertionError(
                f"skill plugin {name!r} is not installed and is not the project at {path}: "
                "install it, or fix the skilldeck_plugin ini option"
            )
    host = Host(discover=False)
    project = load_project(path)
    if project.problems:
        raise AssertionError("; ".join(str(problem) for problem in project.problems))
    for plugin_name, plugin in project.plugins:
        host.register(plugin, name=plugin_name)
    if host.load_errors:
        raise AssertionError("; ".join(str(error) for error in host.load_errors))
    return host
