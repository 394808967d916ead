"""What the system tests drive the instances with: an HTTP client, a recorder, seeded accounts."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import math
import re
import secrets
import string
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from typing import Any

import aiohttp
import pyotp
from conftest import plain_text
from flask import Flask

from example_app import create_app
from flask_kapu import services
from flask_kapu.state import KapuState
from flask_kapu.testing import make_account
from flask_kapu.usernames import normalize

PASSWORD = "Tavaszi-Szel-42"
API = "/kapu/api"
PASSWORD_CODE = re.compile(r"^\s+([0-9A-Z]{5}-[0-9A-Z]{5})\s*$", re.MULTILINE)
EMAIL_CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
NUMBER = re.compile(r"/\d+")


def new_username(prefix: str = "Teszt") -> str:
    """A fresh valid username: letters only, unique by its random tail."""
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def email_of(username: str) -> str:
    return f"{username.lower()}@example.hu"


def code_in(message: EmailMessage, pattern: re.Pattern[str] = PASSWORD_CODE) -> str:
    """The one code a mail carries, as a whitespace-separated token of its plain text."""
    found = pattern.findall(plain_text(message))
    assert len(found) == 1, plain_text(message)
    return str(found[0])


def email_code_in(message: EmailMessage) -> str:
    return code_in(message, EMAIL_CODE)


# --- HTTP -------------------------------------------------------------------------------


@dataclasses.dataclass
class Reply:
    method: str
    path: str
    instance: int
    status: int
    headers: dict[str, str]
    text: str
    started: float
    elapsed: float

    @property
    def finished(self) -> float:
        return self.started + self.elapsed

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def get(self, key: str) -> Any:
        """A field of a JSON object body (``None`` for any other body)."""
        body = self.body
        return body.get(key) if isinstance(body, dict) else None

    @property
    def code(self) -> str | None:
        return self.get("code")  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return f"{self.method} {self.path} on #{self.instance}: {self.status} {self.text[:300]}"


def connector() -> aiohttp.TCPConnector:
    """Connections shared by the clients of a run; idle ones are let go well before the
    server's keep-alive ends (processes.KEEP_ALIVE)."""
    return aiohttp.TCPConnector(limit=0, keepalive_timeout=5)


class Recorder:
    """Every answer by endpoint, and the failures a run met."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.transport_errors: list[str] = []
        self.unexpected: list[str] = []
        self._flagged: set[int] = set()

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)

    def flag(self, reply: Reply, why: str) -> None:
        """Count ``reply`` as an error of its endpoint (an answer its user did not expect)."""
        self._flagged.add(id(reply))
        self.unexpected.append(why)

    def is_error(self, reply: Reply) -> bool:
        return reply.status >= 500 or id(reply) in self._flagged

    @staticmethod
    def endpoint(reply: Reply) -> str:
        return f"{reply.method} {NUMBER.sub('/{id}', reply.path)}"

    def server_errors(self) -> list[Reply]:
        return [r for r in self.replies if r.status >= 500]

    def table(self) -> str:
        by_endpoint: dict[str, list[Reply]] = defaultdict(list)
        for reply in self.replies:
            by_endpoint[self.endpoint(reply)].append(reply)
        lines = [
            f"{'endpoint':<36} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
            f" {'errors':>6} {'5xx':>5}  statuses"
        ]
        for name in sorted(by_endpoint):
            replies = by_endpoint[name]
            times = sorted(r.elapsed * 1000 for r in replies)
            statuses = defaultdict(int)
            for reply in replies:
                statuses[reply.status] += 1
            lines.append(
                f"{name:<36} {len(replies):>8} {percentile(times, 50):>8.1f}"
                f" {percentile(times, 95):>8.1f} {percentile(times, 99):>8.1f}"
                f" {sum(1 for r in replies if self.is_error(r)):>6}"
                f" {sum(1 for r in replies if r.status >= 500):>5}  "
                + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))
            )
        times = sorted(r.elapsed * 1000 for r in self.replies)
        lines.append(
            f"{'all':<36} {len(self.replies):>8} {percentile(times, 50):>8.1f}"
            f" {percentile(times, 95):>8.1f} {percentile(times, 99):>8.1f}"
            f" {sum(1 for r in self.replies if self.is_error(r)):>6}"
            f" {len(self.server_errors()):>5}"
        )
        lines.append(
            f"transport errors: {len(self.transport_errors)}; "
            f"unexpected answers: {len(self.unexpected)}"
        )
        return "\n".join(lines)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Client:
    """One user agent: its own cookies (shared by both instances, as a browser's would be)
    and the JSON API's CSRF header; by default it takes the instances in turn."""

    def __init__(
        self,
        pool: aiohttp.TCPConnector,
        urls: Sequence[str],
        recorder: Recorder | None = None,
        *,
        timeout: float = 60.0,
    ) -> None:
        self.http = aiohttp.ClientSession(
            connector=pool,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        self.urls = list(urls)
        self.recorder = recorder
        self.csrf: str | None = None
        self._turn = itertools.count()

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def cookie(self) -> str:
        """The session cookie's value."""
        for morsel in self.http.cookie_jar:
            if morsel.key == "session":
                return morsel.value
        raise AssertionError("no session cookie")

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        instance: int | None = None,
        accept_json: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        index = next(self._turn) % len(self.urls) if instance is None else instance
        sent = dict(headers or {})
        if accept_json:
            sent["Accept"] = "application/json"
        started = time.monotonic()
        async with self.http.request(
            method, self.urls[index] + path, json=body, headers=sent, allow_redirects=False
        ) as response:
            content = await response.text()
        reply = Reply(
            method=method,
            path=path,
            instance=index,
            status=response.status,
            headers=dict(response.headers),
            text=content,
            started=started,
            elapsed=time.monotonic() - started,
        )
        if self.recorder is not None:
            self.recorder.add(reply)
        return reply

    async def session(self, instance: int | None = None) -> Reply:
        reply = await self.request("GET", f"{API}/session", instance=instance)
        if reply.status == 200:
            self.csrf = reply.body["csrf_token"]
        return reply

    async def api(
        self, method: str, path: str, body: Any = None, *, instance: int | None = None
    ) -> Reply:
        """A JSON API call; fetches a CSRF token first when the session has none."""
        if method != "GET" and self.csrf is None:
            first = await self.session(instance)
            if first.status != 200:
                return first
        headers = {"X-CSRFToken": self.csrf or ""} if method != "GET" else {}
        reply = await self.request(
            method, f"{API}{path}", body=body, instance=instance, headers=headers
        )
        found = reply.body
        if isinstance(found, dict) and "csrf_token" in found:
            self.csrf = found["csrf_token"]
        if path == "/logout" and reply.status == 204:
            self.csrf = None
        return reply

    async def login(self, username: str, password: str, *, instance: int | None = None) -> Reply:
        return await self.api(
            "POST", "/login", {"username": username, "password": password}, instance=instance
        )


async def barrage(
    pool: aiohttp.TCPConnector,
    urls: Sequence[str],
    path: str,
    bodies: Sequence[Any],
    *,
    sessions: Sequence[tuple[str, str]],
) -> list[Reply]:
    """POSTs of ``bodies`` released together, taking ``urls`` and ``sessions`` (cookie, CSRF
    token) in turn: the ``i``-th goes to ``urls[i % len(urls)]``."""
    go = asyncio.Event()
    async with aiohttp.ClientSession(
        connector=pool,
        connector_owner=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=60),
    ) as http:

        async def one(index: int, body: Any) -> Reply:
            instance = index % len(urls)
            cookie, csrf = sessions[index % len(sessions)]
            headers = {"Cookie": f"session={cookie}", "X-CSRFToken": csrf}
            await go.wait()
            started = time.monotonic()
            async with http.post(urls[instance] + path, json=body, headers=headers) as response:
                content = await response.text()
            return Reply(
                "POST",
                path,
                instance,
                response.status,
                dict(response.headers),
                content,
                started,
                time.monotonic() - started,
            )

        tasks = [asyncio.ensure_future(one(i, body)) for i, body in enumerate(bodies)]
        await asyncio.sleep(0.05)  # every task waiting at the gate
        go.set()
        return list(await asyncio.gather(*tasks))


# --- accounts made in the test process ------------------------------------------------


@dataclasses.dataclass
class Seeded:
    id: int
    username: str
    email: str
    password: str
    totp_secret: str | None = None
    recovery_codes: list[str] = dataclasses.field(default_factory=list)


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def totp_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // 30)


class Seeder:
    """Accounts made through flask_kapu itself, in the test process, on the instances' database.

    Its app is the example app with the instances' settings, so code hashes and
    sealed TOTP secrets are ones the instances can read.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.app: Flask = create_app(config)
        self.state: KapuState = self.app.extensions["kapu"]

    def close(self) -> None:
        self.state.notifier.wait()
        self.state.deps.store.dispose()

    def register(self, username: str | None = None) -> tuple[str, str]:
        """Office registration: a pending account whose activation mail goes to the sink."""
        name = username or new_username("Iroda")
        with self.app.app_context():
            services.register(
                self.state.deps,
                services.Context(),
                username=name,
                email=email_of(name),
                via="office",
            )
        return name, email_of(name)

    def account(
        self,
        *,
        methods: Iterable[str] = (),
        recovery: bool = False,
        prefix: str = "Teszt",
    ) -> Seeded:
        """An active account with ``methods`` enrolled (and recovery codes if asked)."""
        deps = self.state.deps
        name = normalize(new_username(prefix))
        made = make_account(
            deps, name, email=email_of(name), password=PASSWORD, methods=tuple(methods)
        )
        codes: list[str] = []
        if recovery:
            with deps.store.transaction() as repo:
                codes = deps.plusz.recovery.new_set(repo, made.account, deps.clock())
        return Seeded(made.account.id, name, email_of(name), PASSWORD, made.totp_secret, codes)
