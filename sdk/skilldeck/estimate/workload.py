"""Estimating a workload: every call bound and counted exactly, then re-estimated under each
what-if, as one turn of parallel calls under the concurrency limit.

A workload has not run, so nothing says how much a model will write: its figures are upper
bounds, each call writing its whole reservation (`reserved_output_tokens`, which holds the
reasoning too), as the dispatcher's estimates are. An effort change therefore moves no
workload figure; run the workload and estimate its trace to see what efforts do. The byte
bound of dispatcher rule 3 stays what it is, a fast test of fit: the figures here come from
exact counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from skilldeck.dispatch.call import BindableTool
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import bind_workload
from skilldeck.estimate.report import EstimateReport, Figures
from skilldeck.estimate.schedule import DEFAULT_CONCURRENCY, Slots
from skilldeck.estimate.whatif import RECORDED, WhatIf


def estimate_workload(
    lines: Iterable[str],
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    what_ifs: Sequence[WhatIf] = (),
    *,
    source: str = "workload",
    concurrency: int | None = None,
) -> EstimateReport:
    """The figures of a JSONL workload as bound and under each what-if (see the module)."""
    exact = Dispatcher(
        dispatcher.catalog, dispatcher.policy, chooser=dispatcher.chooser, counting="always"
    )
    catalog = exact.catalog
    scenarios = [RECORDED, *what_ifs]
    report = EstimateReport(source, "workload", [Figures(s.text) for s in scenarios], runs=1)
    limit = concurrency or DEFAULT_CONCURRENCY
    slots = [Slots(s.concurrency(limit)) for s in scenarios]
    matched: set[str] = set()
    for result in bind_workload(lines, resolve, exact):
        report.lines = result.line
        binding = result.binding
        if binding is None:
            report.note(f"line {result.line}: {result.error_type}: {result.error}")
            continue
        tool_seconds = binding.call.tool_seconds if binding.call is not None else 0.0
        for scenario, figures, slot in zip(scenarios, report.scenarios, slots, strict=True):
            figures.calls += 1
            if binding.tier is None:  # local: no model, whatever the scenario
                slot.add(binding.estimated_latency)
                continue
            tier, _ = scenario.route(binding.tool, binding.tier, binding.effort)
            profile = catalog[tier]
            if tier != binding.tier:
                matched.add(binding.tool)
            fits = profile.fits(binding.input_tokens, binding.reserved_output_tokens) is None
            if tier == binding.tier or not fits:
                # as bound: the dispatcher's own figures (a chunked call's are all its pieces')
                if not fits and getattr(binding, "chunk", None) is None:
                    figures.misfits += 1
                tier = binding.tier
                cost, seconds = binding.estimated_cost, binding.estimated_latency
            else:
                cost = profile.cost(binding.input_tokens, binding.reserved_output_tokens)
                seconds = profile.latency(
                    binding.input_tokens, binding.reserved_output_tokens, tool_seconds
                )
            figures.requests += 1
            figures.input_tokens += binding.input_tokens
            figures.output_tokens += binding.reserved_output_tokens
            figures.tiers[tier.value] = figures.tiers.get(tier.value, 0) + 1
            figures.cost += cost
            slot.add(seconds)
    for figures, slot in zip(report.scenarios, slots, strict=True):
        figures.latency = slot.makespan
    for scenario, figures in zip(scenarios, report.scenarios, strict=True):
        if any(change.key == "effort" for change in scenario.changes):
            report.note(
                f"--what-if {scenario.text!r}: effort changes move no workload figure (upper "
                "bounds: every call writes its whole reservation); estimate a trace instead"
            )
        for name in sorted(scenario.named - matched):
            report.note(f"--what-if {scenario.text!r}: no call of {name} moved")
        if figures.misfits:
            report.note(
                f"--what-if {scenario.text!r}: {figures.misfits} call(s) fit no window of the "
                "tier asked and stay on their bound tier"
            )
    return report
