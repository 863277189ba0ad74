"""Estimates of what runs and workloads cost and how long they take: the latency model applied
to a run's critical path, replays of traces and workloads under what-if changes, and the
calibration of the model's latency parameters from measured requests."""
