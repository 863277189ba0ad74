"""Binding calls to models: calls, the dispatcher and its rules, bindings, policy, workloads."""
