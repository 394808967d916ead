"""The load tool of the throughput run: plain sockets, threads, pre-built requests.

Only the standard library, so the spawned load processes start fast.
"""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["load", "one", "request_bytes"]


def request_bytes(port: int, path: str, cookie: str, user_agent: str) -> bytes:
    """``GET path`` with the session cookie; ``Connection: close`` (one request a connection)."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {user_agent}\r\n"
        f"Cookie: session={cookie}\r\nConnection: close\r\n\r\n"
    ).encode()


def one(port: int, request: bytes) -> bool:
    """Send one request on a new connection; whether it was answered 200."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        first = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            if not first:
                first = chunk
    return first.startswith(b"HTTP/1.1 200") or first.startswith(b"HTTP/1.0 200")


def load(port: int, request: bytes, seconds: float, threads: int) -> tuple[int, int]:
    """(answered 200, anything else) from ``threads`` threads for ``seconds`` (one process)."""
    deadline = time.perf_counter() + seconds
    counts = [[0, 0] for _ in range(threads)]

    def worker(slot: list[int]) -> None:
        while time.perf_counter() < deadline:
            try:
                ok = one(port, request)
            except OSError:
                ok = False
            slot[0 if ok else 1] += 1

    pool = [threading.Thread(target=worker, args=(slot,)) for slot in counts]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(c[0] for c in counts), sum(c[1] for c in counts)
