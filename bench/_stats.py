"""What the benchmarks share: percentiles, the median/p95/max line, the verdict on a target."""

from __future__ import annotations

import statistics


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) of `samples`, nearest rank; NaN for none."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timing_line(name: str, samples: list[float], width: int = 32) -> float:
    """Print `name  median  p95  max` (ms) and return the p95."""
    p95 = pct(samples, 0.95)
    print(f"{name:{width}} {statistics.median(samples):8.2f} {p95:8.2f} {max(samples):8.2f}")
    return p95


def verdict(worst_p95: float, target_ms: float) -> int:
    """Print whether the worst p95 met the target; the exit status to return."""
    ok = worst_p95 <= target_ms
    print(f"worst p95 {worst_p95:.2f} ms — target ≤ {target_ms:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1
