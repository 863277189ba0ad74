"""Running tasks: the runner, each call of a run, model requests and escalation, the budget,
the ledger and the trace."""
