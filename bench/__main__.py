"""``python -m bench``: run every case, print the table, write RESULTS.md and results.json."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from .cases import (
    Suite,
    argon2_case,
    bare_cases,
    build_suite,
    login_cases,
    session_cookie_bytes,
    stepup_cases,
    view_cases,
)
from .data import Database, postgres_database, sqlite_database
from .models import fl_db, fs_db
from .report import Report, machine_info, now
from .settings import BENCH_DIR
from .timing import Case, run

#: The order cases run in a round: comparable cases next to each other.
ORDER = (
    "bare",
    "kapu_bare",
    "flask_login",
    "kapu_login_required",
    "kapu_requires_plusz",
    "fst_auth",
    "fst_within",
    "kapu_email_verify",
    "kapu_totp_verify",
    "kapu_login",
    "argon2_verify",
)
#: Cases run right after their partner, database by database (not kind by kind): each login
#: next to the argon2id verify it is compared with.
PAIRED = {"argon2_verify": "kapu_login"}


def log(message: str) -> None:
    print(message, flush=True)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="flask_kapu against Flask-Login and Flask-Security-Too (see bench/__init__.py)",
    )
    parser.add_argument("--rounds", type=int, default=30, help="counted rounds (default 30)")
    parser.add_argument(
        "--sizes",
        default="1000,1000000",
        help="account counts, comma-separated (default 1000,1000000)",
    )
    parser.add_argument("--throughput-seconds", type=float, default=5.0)
    parser.add_argument("--throughput-rounds", type=int, default=3)
    parser.add_argument("--no-throughput", action="store_true", help="skip the gunicorn run")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short trial (5 rounds, 1,000 accounts, short throughput); writes no results",
    )
    parser.add_argument(
        "--profile",
        metavar="CASE",
        help="profile one case with pyinstrument instead (e.g. kapu_requires_plusz)",
    )
    parser.add_argument("--profile-calls", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=BENCH_DIR, help="where results go")
    parser.add_argument(
        "--render",
        action="store_true",
        help="rewrite RESULTS.md from the results.json there (after editing bench/NOTES.md)",
    )
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.rounds = 5
        arguments.sizes = "1000"
        arguments.throughput_seconds = 2.0
        arguments.throughput_rounds = 1
    return arguments


def _cases(suites: Sequence[Suite]) -> list[Case]:
    found = [*bare_cases(suites[0])]
    for suite in suites:
        found += view_cases(suite) + stepup_cases(suite) + login_cases(suite)
        argon2 = argon2_case()
        argon2.key = suite.key(argon2.key)  # one per database, run next to its login
        found.append(argon2)
    databases = {suite.database.label: index for index, suite in enumerate(suites)}

    def place(case: Case) -> tuple[int, int, int]:
        kind, _, database = case.key.partition("@")
        partner = PAIRED.get(kind, kind)
        return ORDER.index(partner), databases.get(database, -1), ORDER.index(kind)

    return sorted(found, key=place)


def _dispose(suites: Sequence[Suite]) -> None:
    for suite in suites:
        suite.kapu.state.deps.store.dispose()
        with suite.flask_login.app_context():
            fl_db.engine.dispose()
        with suite.fst.app_context():
            fs_db.engine.dispose()


def _profile(arguments: argparse.Namespace, sizes: list[int]) -> int:
    from .profiling import profile

    suite = build_suite(sqlite_database(sizes[0], log))
    cases = {c.key.split("@")[0]: c for c in _cases([suite])}
    case = cases.get(arguments.profile)
    if case is None:
        log(f"unknown case {arguments.profile!r}; cases: {', '.join(cases)}")
        return 2
    calls = arguments.profile_calls if case.prepare is None else min(arguments.profile_calls, 100)
    if case.key.split("@")[0] in ("kapu_login", "argon2_verify"):
        calls = min(calls, 20)
    log(f"profiling {case.key}, {calls} calls ...")
    log(profile(case, calls))
    _dispose([suite])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    sizes = [int(s.replace("_", "")) for s in arguments.sizes.split(",") if s.strip()]
    if arguments.profile:
        return _profile(arguments, sizes)
    if arguments.render:
        source = arguments.output / "results.json"
        report = Report.from_json(json.loads(source.read_text(encoding="utf-8")))
        log(report.table())
        markdown, data = report.write(arguments.output)
        log(f"\nwrote {markdown} and {data} from {source}")
        return 0
    started_at = now()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        databases: list[Database] = [sqlite_database(size, log) for size in sizes]
        postgres = os.environ.get("KAPU_TEST_DATABASE_URL")
        if postgres:
            for size in sizes:
                databases.append(stack.enter_context(postgres_database(postgres, size, log)))
        else:
            log("KAPU_TEST_DATABASE_URL is not set: SQLite only")
        machine = machine_info(databases)
        log("setting up apps and logged-in clients ...")
        suites = [build_suite(database) for database in databases]
        cases = _cases(suites)
        cookie = session_cookie_bytes(suites[0].kapu, databases[0].sample.plain[0])
        log(f"{len(cases)} cases, {arguments.rounds} rounds (+1 warm-up), interleaved ...")
        stats = run(cases, rounds=arguments.rounds, log=log)
        _dispose(suites)
        throughput = None
        if not arguments.no_throughput:
            from .throughput import measure

            log("throughput under gunicorn ...")
            throughput = measure(
                databases[0],
                seconds=arguments.throughput_seconds,
                rounds=arguments.throughput_rounds,
                log=log,
            )
    report = Report(
        databases=databases,
        stats=stats,
        cookie=cookie,
        throughput=throughput,
        machine=machine,
        settings={
            "rounds": arguments.rounds,
            "sizes": sizes,
            "method": (
                f"Flask test client in one process; {arguments.rounds} interleaved rounds "
                "after one warm-up; a figure is the median of per-round means, [min–max] "
                "of those means; ratios are paired round by round"
            ),
        },
        started=started_at,
        seconds=time.perf_counter() - started,
    )
    log("")
    log(report.table())
    if arguments.quick:
        log("\n(--quick: nothing written)")
        return 0
    markdown, data = report.write(arguments.output)
    log(f"\nwrote {markdown} and {data}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
