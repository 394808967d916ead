"""``python -m bench --profile CASE``: where one case's time goes (pyinstrument).

Only the timed call is profiled: the profiler is started before and stopped
after each call, so a case's untimed preparation (a fresh code, a CSRF
token) stays out of the picture.
"""

from __future__ import annotations

from .timing import Case

__all__ = ["profile"]


def profile(case: Case, calls: int) -> str:
    from pyinstrument import Profiler

    for _ in range(min(calls, 50)):  # warm caches, pools and lazy imports first
        if case.prepare is not None:
            case.prepare()
        case.call()
    profiler = Profiler(interval=0.0001)
    for _ in range(calls):
        if case.prepare is not None:
            case.prepare()
        profiler.start()
        case.call()
        profiler.stop()
    return str(profiler.output_text(unicode=True, color=False, show_all=False))
