"""Requests per second under gunicorn (2 sync workers) on loopback.

The load tool is deliberately small: two client processes (so it is not held
back by one GIL), each with two threads, each thread sending pre-built
``GET`` requests over fresh connections (gunicorn's sync workers close every
connection) and reading each answer to the end. Every request carries the
same ``plusz`` session cookie, so the bare page and the ``@requires_plusz``
page differ only by the decorator. The load runs for a fixed time, the two
pages interleaved, and the median over rounds is kept. The load tool shares
the two cores with the server, as any tool on this machine would.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from .apps import kapu_app
from .cases import client
from .data import Database
from .load import load, one, request_bytes
from .settings import BENCH_DIR, USER_AGENT

__all__ = ["LOAD_PROCESSES", "LOAD_THREADS", "WORKERS", "measure"]

WORKERS = 2
LOAD_PROCESSES = 2
LOAD_THREADS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    request = request_bytes(port, "/bare", "", USER_AGENT)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        with contextlib.suppress(OSError):
            if one(port, request):
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


@contextlib.contextmanager
def _gunicorn(database: Database) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": database.url}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "bench.wsgi:application",
    ]
    process = subprocess.Popen(command, cwd=BENCH_DIR.parent, env=env)  # noqa: S603
    try:
        _wait_until_up(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _plusz_cookie(database: Database) -> str:
    """A ``plusz`` session issued by flask_kapu itself (same secret key as the server)."""
    bench = kapu_app(database.url, name="bench_cookie")
    tested = client(bench.app, f"/_bench/login/{database.sample.plain[0]}?level=plusz")
    cookie = tested.get_cookie("session")
    bench.state.deps.store.dispose()
    if cookie is None:
        raise RuntimeError("no session cookie after the benchmark login")
    return cookie.value


def measure(
    database: Database,
    *,
    seconds: float,
    rounds: int,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Requests/s of ``/bare`` and ``/plusz`` (median of ``rounds``) and their ratio."""
    cookie = _plusz_cookie(database)
    context = multiprocessing.get_context("spawn")
    with (
        concurrent.futures.ProcessPoolExecutor(LOAD_PROCESSES, mp_context=context) as pool,
        _gunicorn(database) as port,
    ):
        requests = {
            path: request_bytes(port, path, cookie, USER_AGENT) for path in ("/bare", "/plusz")
        }
        for path, request in requests.items():  # both must answer 200 before we count
            if not one(port, request):
                raise RuntimeError(f"gunicorn did not answer 200 on {path}")

        def blast(request: bytes, duration: float) -> tuple[float, int]:
            futures = [
                pool.submit(load, port, request, duration, LOAD_THREADS)
                for _ in range(LOAD_PROCESSES)
            ]
            started = time.perf_counter()
            results = [f.result() for f in futures]
            elapsed = max(duration, time.perf_counter() - started)
            return sum(ok for ok, _ in results) / elapsed, sum(bad for _, bad in results)

        for request in requests.values():  # warm up both workers and the pool
            blast(request, 1.0)
        rates: dict[str, list[float]] = {path: [] for path in requests}
        errors = 0
        for number in range(rounds):
            order = list(requests.items())
            if number % 2:
                order.reverse()
            for path, request in order:
                rate, bad = blast(request, seconds)
                rates[path].append(rate)
                errors += bad
            log(f"  throughput round {number + 1}/{rounds}")
    bare = statistics.median(rates["/bare"])
    plusz = statistics.median(rates["/plusz"])
    return {
        "database": database.label,
        "workers": WORKERS,
        "load": f"{LOAD_PROCESSES} processes x {LOAD_THREADS} threads, new connection each",
        "seconds_per_round": seconds,
        "rounds": rounds,
        "bare_rps": bare,
        "bare_rps_all": rates["/bare"],
        "plusz_rps": plusz,
        "plusz_rps_all": rates["/plusz"],
        "errors": errors,
        "ratio": plusz / bare,
    }
