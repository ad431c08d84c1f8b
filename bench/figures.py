"""The benchmarks' report: each figure beside its target and a same-run baseline.

A figure is something measured; its target is the most it may be; its baseline is the same
work done the plain or old way in the same run, so a noisy machine shows in both. `report`
prints the table and returns the exit status: 1 when any figure misses its target.
"""

import os
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    target: float
    baseline: float | None = None
    unit: str = "ms"

    @property
    def met(self) -> bool:
        return self.value <= self.target


def p95(samples: list[float]) -> float:
    """Return the 95th percentile (nearest rank) of the samples."""
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def _number(value: float) -> str:
    """Three significant figures or so: 0.042, 1.25, 17.5, 2322."""
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def report(figures: list[Figure]) -> int:
    """Print the figures as a table with the machine's load; return 1 if any missed."""
    print(f"load average: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"{'figure':44} {'value':>10} {'target':>10} {'baseline':>10} {'baseline/value':>15}  ")
    for f in figures:
        base = f"{_number(f.baseline):>10}" if f.baseline is not None else f"{'—':>10}"
        ratio = f"{f.baseline / f.value:14.1f}x" if f.baseline and f.value else f"{'—':>15}"
        mark = "ok" if f.met else "MISSED"
        value, target = f"{_number(f.value):>8}{f.unit:>2}", f"{_number(f.target):>8}{f.unit:>2}"
        print(f"{f.name:44} {value} {target} {base} {ratio}  {mark}")
    missed = [f.name for f in figures if not f.met]
    if missed:
        print(f"MISSED {len(missed)} of {len(figures)} targets: {', '.join(missed)}")
        return 1
    print(f"All {len(figures)} targets met.")
    return 0
