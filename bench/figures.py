"""The benchmarks' report: each figure beside its target and a same-run baseline.

A figure is something measured; its target is the most it may be (or, for a rate, the
least: `at_least`; or none, for a figure that only explains another); its baseline is the
same work done the plain or old way in the same run, so a noisy machine shows in both, and
the ratio says how many times better than the baseline the figure is. `report` prints the
table and returns the exit status: 1 when any figure misses its target.
"""

import os
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    target: float | None
    baseline: float | None = None
    unit: str = "ms"
    at_least: bool = False
    baseline_is: str = ""  # what the baseline measured, when the name does not say

    @property
    def met(self) -> bool:
        if self.target is None:
            return True
        return self.value >= self.target if self.at_least else self.value <= self.target

    @property
    def better(self) -> float | None:
        """How many times better than the baseline (over 1: better)."""
        if not self.baseline or not self.value:
            return None
        return self.value / self.baseline if self.at_least else self.baseline / self.value


def p95(samples: list[float]) -> float:
    """Return the 95th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def _number(value: float) -> str:
    """Three significant figures or so: 0.042, 1.25, 17.5, 2322; counts as they are: 0, 12."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def report(figures: list[Figure]) -> int:
    """Print the figures as a table with the machine's load; return 1 if any missed."""
    print(f"load average: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"{'figure':48} {'value':>10} {'target':>11} {'baseline':>10} {'x better':>9}  ")
    for f in figures:
        base = f"{_number(f.baseline):>10}" if f.baseline is not None else f"{'—':>10}"
        ratio = f"{f.better:8.2f}x" if f.better is not None else f"{'—':>9}"
        mark = "ok" if f.met else "MISSED"
        value = f"{_number(f.value):>8}{f.unit:>2}"
        if f.target is None:
            target = f"{'—':>11}"
        else:
            target = f"{'>=' if f.at_least else '<=':>3}{_number(f.target):>6}{f.unit:>2}"
        print(f"{f.name:48} {value} {target} {base} {ratio}  {mark}")
    for f in figures:
        if f.baseline_is:
            print(f"  baseline of “{f.name}”: {f.baseline_is}")
    missed = [f.name for f in figures if not f.met]
    if missed:
        print(f"MISSED {len(missed)} of {len(figures)} targets: {', '.join(missed)}")
        return 1
    print(f"All {len(figures)} targets met.")
    return 0
