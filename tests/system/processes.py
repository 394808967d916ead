"""The real parts the system tests start and stop: gunicorn, PostgreSQL, Redis and SMTP.

Every class here owns the processes it starts and ends them by their own id
(or process group) in ``stop``/``close``, which the fixtures call in their
teardown whatever the test did.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

import redis
from aiosmtpd.controller import Controller
from conftest import Sink
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
#: Seconds gunicorn keeps an idle connection open. The clients let theirs go sooner, as a
#: load balancer in front of it would, so that no request is sent on a connection the
#: server is closing at that moment.
KEEP_ALIVE = 30


# --- gunicorn ---------------------------------------------------------------------------


class Gunicorn:
    """One instance of the example app: a gunicorn master with two threaded workers."""

    WORKERS = 2
    THREADS = 4

    def __init__(self, name: str, port: int, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = port
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(ROOT),
            "--workers",
            str(self.WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.THREADS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",  # two instances would share its default path
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--keep-alive",  # longer than the clients keep an idle connection (client.py)
            str(KEEP_ALIVE),
            "--error-logfile",
            "-",
            "example_app:create_app()",
        ]
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log_tail()}")
            try:
                probe = f"{self.url}/kapu/api/session"  # always http://127.0.0.1
                with urllib.request.urlopen(probe, timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {self.name} did not answer:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def booted_workers(self) -> int:
        return self.log_text().count("Booting worker")

    def stop(self) -> None:
        process = self.process
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # a worker that outlived its master
            self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def start_instances(instances: list[Gunicorn]) -> None:
    """Start them together (each boot takes a few seconds), then wait for each."""
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.wait_ready()


# --- PostgreSQL -------------------------------------------------------------------------


def check_postgres(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or ``None`` when it answers."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        why = str(getattr(exc, "orig", exc)).splitlines()[0]
        return f"PostgreSQL unreachable at {make_url(url).render_as_string()}: {why}"
    finally:
        engine.dispose()
    return None


@contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """A new database on the server of ``base_url``, dropped afterwards."""
    url = make_url(base_url)
    name = f"kapu_system_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: pg_config's bindir, Debian's layout, or PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: ``initdb`` in a temporary folder, its own port.

    PostgreSQL refuses to run as root, so as root every command runs as the
    ``postgres`` user through ``runuser``. The machine's shared server is never touched.
    """

    def __init__(self, bindir: Path, port: int) -> None:
        self.bindir = bindir
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="kapu-pg-"))
        self.data = self.dir / "data"
        self.server_log = self.dir / "server.log"
        self.running = False

    @staticmethod
    def unusable() -> str | None:
        """Why no private cluster can be made here, or ``None``."""
        if postgres_bindir() is None:
            return "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return "running as root without runuser to start PostgreSQL as postgres"
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user to run PostgreSQL"
        return None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=90,
            check=check,
        )

    def init(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
            " -c fsync=off -c full_page_writes=off -c max_connections=120"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.server_log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )
        self.running = False

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                pg_ctl, data = str(self.bindir / "pg_ctl"), str(self.data)
                done = self._run(pg_ctl, "-D", data, "-m", "immediate", "stop", check=False)
                pid_file = self.data / "postmaster.pid"
                if done.returncode != 0 and pid_file.exists():  # our postmaster, by its own id
                    pid = int(pid_file.read_text().split()[0])
                    os.kill(pid, signal.SIGKILL)
        finally:
            self.running = False
            shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis ------------------------------------------------------------------------------


def check_redis(url: str) -> str | None:
    """Why Redis at ``url`` cannot be used, or ``None`` when it answers."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except Exception as exc:
        return f"Redis unreachable at {url}: {exc}"
    finally:
        client.close()
    return None


def forget_limits(url: str) -> None:
    """Delete the per-IP counters (the ``limits`` keys) from the Redis database of ``url``."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match="LIMITS*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class PrivateRedis:
    """A ``redis-server`` of the test's own on a free port, stopped and started at will."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="kapu-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while check_redis(self.url) is not None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- SMTP -------------------------------------------------------------------------------


class Mailbox(Sink):
    """The tests' SMTP sink, with each recipient's mails kept apart for quick look-ups."""

    def __init__(self) -> None:
        super().__init__()
        self.by_address: dict[str, list[EmailMessage]] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message: EmailMessage = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[assignment]
        with self._lock:
            self.messages.append(message)
            self.by_address.setdefault(str(message["To"]), []).append(message)
        return "250 OK"

    def count(self, to: str) -> int:
        with self._lock:
            return len(self.by_address.get(to, ()))

    def mails(self, to: str) -> list[EmailMessage]:
        with self._lock:
            return list(self.by_address.get(to, ()))

    async def next_mail(self, to: str, seen: int, timeout: float = 15.0) -> EmailMessage:
        """The first mail to ``to`` after the ``seen`` ones already there."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self.by_address.get(to, ())
                if len(found) > seen:
                    return found[seen]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no mail to {to} within {timeout} s")
            await asyncio.sleep(0.02)

    def wait_mail(self, to: str, seen: int = 0, timeout: float = 15.0) -> EmailMessage:
        """``next_mail`` for synchronous callers."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self.by_address.get(to, ())
                if len(found) > seen:
                    return found[seen]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no mail to {to} within {timeout} s")
            time.sleep(0.02)


class SmtpServer:
    """aiosmtpd on a fixed port, which a test can take down and bring back."""

    def __init__(self, mailbox: Mailbox, port: int) -> None:
        self.mailbox = mailbox
        self.port = port
        self._controller: Controller | None = None
        self._guard = threading.Lock()

    def start(self) -> None:
        with self._guard:
            if self._controller is None:
                controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
                controller.start()
                self._controller = controller

    def stop(self) -> None:
        with self._guard:
            controller, self._controller = self._controller, None
            if controller is not None:
                controller.stop()
