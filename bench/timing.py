"""The interleaved runner: every case once per round, rounds repeated, medians kept.

A round runs each case's batch back to back (its start rotates from round to
round, so no case always follows the same neighbour); a case's figure for
the round is its mean per call. Over the rounds we keep the median, min and
max of those means: on two shared cores a single slow round moves the mean a
lot and the median not at all. A ratio of two cases is taken round by round
(the two ran seconds apart, under the same load) and its median kept.
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
from collections.abc import Callable, Sequence

__all__ = ["Case", "Stats", "run"]


@dataclasses.dataclass
class Case:
    """One measured thing: ``call`` is timed ``batch`` times a round.

    ``prepare`` (untimed) runs before each call when a call needs fresh input,
    such as a new one-time code; then each call is timed on its own.
    """

    key: str
    call: Callable[[], None]
    batch: int
    prepare: Callable[[], None] | None = None

    def measure(self) -> float:
        """This round's mean nanoseconds per call."""
        clock = time.perf_counter_ns
        call = self.call
        if self.prepare is None:
            started = clock()
            for _ in range(self.batch):
                call()
            return (clock() - started) / self.batch
        prepare = self.prepare
        total = 0
        for _ in range(self.batch):
            prepare()
            started = clock()
            call()
            total += clock() - started
        return total / self.batch


@dataclasses.dataclass(frozen=True)
class Stats:
    """Median, min and max of a case's per-round means (nanoseconds), and the means."""

    median: float
    low: float
    high: float
    means: tuple[float, ...]

    @classmethod
    def of(cls, means: Sequence[float]) -> Stats:
        return cls(statistics.median(means), min(means), max(means), tuple(means))

    def ratio(self, other: Stats) -> Stats:
        """``self / other`` round by round (the two ran moments apart), as stats."""
        return Stats.of([a / b for a, b in zip(self.means, other.means, strict=True)])


def run(
    cases: Sequence[Case],
    *,
    rounds: int,
    warmup: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Stats]:
    """Run ``cases`` interleaved for ``warmup`` + ``rounds`` rounds; stats of the counted ones."""
    means: dict[str, list[float]] = {case.key: [] for case in cases}
    total = warmup + rounds
    started = time.perf_counter()
    for number in range(total):
        gc.collect()
        shift = number % len(cases)
        for case in [*cases[shift:], *cases[:shift]]:
            mean = case.measure()
            if number >= warmup:
                means[case.key].append(mean)
        if number + 1 == warmup or (number + 1) % 5 == 0 or number + 1 == total:
            elapsed = time.perf_counter() - started
            log(f"  round {number + 1}/{total} ({elapsed:.0f} s)")
    return {key: Stats.of(values) for key, values in means.items()}
