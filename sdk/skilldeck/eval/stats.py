"""The statistics of a sweep: a pass rate's confidence interval, and latency percentiles.

A pass rate from twenty runs is not a pass rate: 19/20 is consistent with a model that passes
80% of the time. The recommendation therefore compares the target with the lower bound of the
rate's 95% Wilson score interval, which, unlike the normal approximation, stays inside [0, 1]
and behaves at 0 and n passes, where the cells worth recommending sit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["Z_95", "percentile", "wilson"]

#: The standard normal quantile of a two-sided 95% interval.
Z_95 = 1.959963984540054


def wilson(passed: int, runs: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of `passed` successes in `runs` trials; (0, 1) for none."""
    if runs <= 0:
        return 0.0, 1.0
    if not 0 <= passed <= runs:
        raise ValueError(f"passed must be from 0 to {runs}, not {passed}")
    rate = passed / runs
    z2 = z * z
    centre = rate + z2 / (2 * runs)
    margin = z * math.sqrt(rate * (1 - rate) / runs + z2 / (4 * runs * runs))
    denominator = 1 + z2 / runs
    low = (centre - margin) / denominator
    high = (centre + margin) / denominator
    return max(0.0, low), min(1.0, high)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`-th percentile (0-100) by linear interpolation between closest ranks, as
    numpy's default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
