"""The tier x effort evaluation sweep behind `skilldeck eval`: the evidence for a declaration.

A tool declares the tier and effort its work needs; this package measures whether it does.
Every case of a plugin runs in every (tier, effort) cell its models support, pinned there by
a policy override (`skilldeck.dispatch.policy.ToolOverride`), never by a copy of the plugin.
The modules are small and one-way: `plan` (the cells), `cache` (results kept per run, so a
sweep resumes), `sweep` (running them), `stats` (Wilson intervals, percentiles), `cells` (a
cell's figures), `recommend` (the cheapest or fastest cell that meets the target), `report`
(the table and the sentences), `plot` (the article's chart, with matplotlib), and
`evaluation`, which runs them end to end for the command line.
"""
