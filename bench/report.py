"""The one table, ``bench/RESULTS.md`` and ``bench/results.json``.

Times are medians of per-round means with their min and max; ratios are
taken round by round (see :mod:`bench.timing`). A target is judged on the
median, at every database; the headline figure of ``results.json`` is the
worst database's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .apps import FST_WITHIN_MINUTES
from .data import Database, sample
from .settings import BENCH_DIR
from .timing import Stats

__all__ = ["Ratio", "Report", "machine_info"]

LABELS = {
    "bare": "bare view, plain Flask (no cookie)",
    "kapu_bare": "bare view on the flask_kapu app (plusz cookie)",
    "flask_login": "Flask-Login `@login_required`, SQLAlchemy loader",
    "kapu_login_required": "flask_kapu `@login_required`",
    "kapu_requires_plusz": "flask_kapu `@requires_plusz`",
    "fst_auth": "Flask-Security-Too `@auth_required()`",
    "fst_within": f"Flask-Security-Too `@auth_required(within={FST_WITHIN_MINUTES})`",
    "kapu_login": "flask_kapu JSON login, end to end",
    "argon2_verify": "one argon2id verify, same parameters",
    "kapu_email_verify": "flask_kapu e-mail code verify (POST)",
    "kapu_totp_verify": "flask_kapu TOTP verify (POST)",
}
#: flask_kapu's own figures: the ones the scale target is about.
KAPU_CASES = (
    "kapu_login_required",
    "kapu_requires_plusz",
    "kapu_login",
    "kapu_email_verify",
    "kapu_totp_verify",
)
GLOBAL_CASES = ("bare", "kapu_bare")
PACKAGES = (
    "flask-kapu",
    "Flask",
    "Werkzeug",
    "Flask-Login",
    "Flask-Security-Too",
    "Flask-SQLAlchemy",
    "SQLAlchemy",
    "argon2-cffi",
    "psycopg",
    "gunicorn",
)
RATIO_LABELS = {
    "plusz_vs_flask_login": "`@requires_plusz` / Flask-Login `@login_required`",
    "plusz_vs_fst": "`@requires_plusz` / Flask-Security-Too `@auth_required()`",
    "login_vs_hash": "JSON login / one argon2id verify",
    "email_verify_vs_request": "e-mail code verify / authenticated request",
    "totp_verify_vs_request": "TOTP verify / authenticated request",
}
RATIO_CASES = {
    "plusz_vs_flask_login": ("kapu_requires_plusz", "flask_login", 1.25),
    "plusz_vs_fst": ("kapu_requires_plusz", "fst_auth", 0.5),
    "login_vs_hash": ("kapu_login", "argon2_verify", 1.05),
    "email_verify_vs_request": ("kapu_email_verify", "kapu_login_required", 3.0),
    "totp_verify_vs_request": ("kapu_totp_verify", "kapu_login_required", 3.0),
}
SCALE_TARGET = 1.10
COOKIE_TARGET = 1000


def duration(ns: float) -> str:
    if ns >= 10_000_000:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.0f} µs"


def _times(stats: Stats) -> str:
    return f"{duration(stats.median)} [{duration(stats.low)}–{duration(stats.high)}]"


def _ratio_text(stats: Stats) -> str:
    return f"{stats.median:.2f} [{stats.low:.2f}–{stats.high:.2f}]"


@dataclasses.dataclass(frozen=True)
class Ratio:
    """One judged figure: a paired ratio (or a plain value) against its target."""

    name: str
    label: str
    database: str
    value: float
    low: float | None
    high: float | None
    target: float | None  # None: reported only

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value <= self.target

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "reported"
        if self.met:
            return "met"
        over = (self.value / self.target - 1) * 100
        return f"**missed by {over:.1f}%**" if over < 10 else f"**missed by {over:.0f}%**"

    def json(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "database": self.database,
            "median": self.value,
            "min": self.low,
            "max": self.high,
            "target": self.target,
            "met": self.met,
        }


def machine_info(databases: Sequence[Database]) -> dict[str, Any]:
    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "sqlite": sqlite3.sqlite_version,
        "databases": [d.label for d in databases],
        "packages": versions,
    }


@dataclasses.dataclass
class Report:
    """Everything one run measured."""

    databases: list[Database]
    stats: dict[str, Stats]
    cookie: dict[str, int]
    throughput: dict[str, Any] | None
    machine: dict[str, Any]
    settings: dict[str, Any]
    started: datetime
    seconds: float

    def _case(self, case: str, database: Database | None) -> Stats | None:
        if case in GLOBAL_CASES:
            return self.stats.get(case)
        if database is None:
            return None
        return self.stats.get(f"{case}@{database.label}")

    def _scale_pairs(self) -> list[tuple[Database, Database]]:
        """(1k, 1M) databases of the same backend: the smallest and the largest size."""
        pairs = []
        for backend in dict.fromkeys(d.backend for d in self.databases):
            sizes = sorted(
                (d for d in self.databases if d.backend == backend), key=lambda d: d.size
            )
            if len(sizes) > 1:
                pairs.append((sizes[0], sizes[-1]))
        return pairs

    def ratios(self) -> list[Ratio]:
        judged = []
        for name, (top, bottom, target) in RATIO_CASES.items():
            for database in self.databases:
                a, b = self._case(top, database), self._case(bottom, database)
                if a is None or b is None:
                    continue
                paired = a.ratio(b)
                label = RATIO_LABELS[name]
                judged.append(
                    Ratio(
                        name, label, database.label, paired.median, paired.low, paired.high, target
                    )
                )
        for small, large in self._scale_pairs():
            for case in KAPU_CASES:
                a, b = self._case(case, large), self._case(case, small)
                if a is None or b is None:
                    continue
                paired = a.ratio(b)
                judged.append(
                    Ratio(
                        f"scale:{case}",
                        f"{LABELS[case]}: {large.label} / {small.label}",
                        large.backend,
                        paired.median,
                        paired.low,
                        paired.high,
                        SCALE_TARGET,
                    )
                )
        if self.cookie:
            judged.append(
                Ratio(
                    "cookie_bytes",
                    "session cookie at plusz with a pending WebAuthn challenge (bytes)",
                    self.databases[0].label,
                    float(self.cookie["cookie_bytes"]),
                    None,
                    None,
                    COOKIE_TARGET,
                )
            )
        if self.throughput:
            judged.append(
                Ratio(
                    "throughput_ratio",
                    "gunicorn req/s: `@requires_plusz` page / bare page",
                    self.throughput["database"],
                    self.throughput["ratio"],
                    None,
                    None,
                    None,
                )
            )
        return judged

    # --- text ---------------------------------------------------------------------------

    def table(self) -> str:
        """The one table: per-request times per database, then every judged figure."""
        columns = [d.label for d in self.databases]
        pairs = self._scale_pairs()
        header = ["per request: median [min–max]", *columns]
        header += [f"{large.label} / {small.label}" for small, large in pairs]
        lines = [_row(header), _row(["---"] * len(header))]
        for case, label in LABELS.items():
            cells = []
            for index, database in enumerate(self.databases):
                show = case not in GLOBAL_CASES or index == 0
                stats = self._case(case, database) if show else None
                cells.append(_times(stats) if stats else "")
            for small, large in pairs:
                a, b = self._case(case, large), self._case(case, small)
                cells.append(
                    _ratio_text(a.ratio(b)) if a and b and case not in GLOBAL_CASES else ""
                )
            lines.append(_row([label, *cells]))
        judged = self.ratios()
        lines.append("")
        lines.append(_row(["figure", "database", "median [min–max]", "target", "verdict"]))
        lines.append(_row(["---"] * 5))
        for item in judged:
            if item.low is not None and item.high is not None:
                value = f"{item.value:.2f} [{item.low:.2f}–{item.high:.2f}]"
            elif item.name == "cookie_bytes":
                value = f"{item.value:.0f}"
            else:
                value = f"{item.value:.2f}"
            target = "report" if item.target is None else f"≤ {item.target:g}"
            lines.append(_row([item.label, item.database, value, target, item.verdict]))
        if self.throughput:
            t = self.throughput
            lines.append("")
            lines.append(
                f"Throughput ({t['database']}, gunicorn {t['workers']} sync workers, "
                f"load: {t['load']}, {t['rounds']} × {t['seconds_per_round']:g} s per page): "
                f"bare page {t['bare_rps']:.0f} req/s, `@requires_plusz` page "
                f"{t['plusz_rps']:.0f} req/s, ratio {t['ratio']:.2f}; {t['errors']} errors."
            )
        return "\n".join(lines)

    def headline(self) -> dict[str, Any]:
        """The keys the issue asks for: each the worst database's median."""
        judged = self.ratios()

        def worst(prefix: str) -> float | None:
            values = [r.value for r in judged if r.name == prefix or r.name.startswith(prefix)]
            return max(values) if values else None

        return {
            "plusz_vs_flask_login": worst("plusz_vs_flask_login"),
            "plusz_vs_fst": worst("plusz_vs_fst"),
            "login_vs_hash": worst("login_vs_hash"),
            "email_verify_vs_request": worst("email_verify_vs_request"),
            "totp_verify_vs_request": worst("totp_verify_vs_request"),
            "scale_1m_vs_1k": worst("scale:"),
            "cookie_bytes": self.cookie.get("cookie_bytes"),
            "throughput_ratio": self.throughput["ratio"] if self.throughput else None,
        }

    def json(self) -> dict[str, Any]:
        return {
            **self.headline(),
            "date": self.started.isoformat(timespec="seconds"),
            "run_seconds": round(self.seconds, 1),
            "machine": self.machine,
            "settings": self.settings,
            "databases": [{"backend": d.backend, "size": d.size} for d in self.databases],
            "figures": [r.json() for r in self.ratios()],
            "cases_us": {
                key: {
                    "median": s.median / 1e3,
                    "min": s.low / 1e3,
                    "max": s.high / 1e3,
                    "rounds": len(s.means),
                }
                for key, s in self.stats.items()
            },
            "cookie": self.cookie,
            "throughput": self.throughput,
            "means_ns": {key: list(s.means) for key, s in self.stats.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """The report of an earlier run, from its ``results.json`` (``--render``)."""
        databases = [
            Database(d["backend"], d["size"], "", sample(d["size"])) for d in data["databases"]
        ]
        return cls(
            databases=databases,
            stats={key: Stats.of(means) for key, means in data["means_ns"].items()},
            cookie=data["cookie"],
            throughput=data["throughput"],
            machine=data["machine"],
            settings=data["settings"],
            started=datetime.fromisoformat(data["date"]),
            seconds=data["run_seconds"],
        )

    def markdown(self) -> str:
        m = self.machine
        packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
        missed = [r for r in self.ratios() if r.met is False]
        summary = (
            "Every target is met."
            if not missed
            else "Missed: "
            + "; ".join(
                f"{r.label} ({r.database}): {r.value:.3f} vs ≤ {r.target:g}" for r in missed
            )
            + ". See the notes below for why and what would fix each."
        )
        notes_file = BENCH_DIR / "NOTES.md"
        notes = notes_file.read_text(encoding="utf-8").strip() if notes_file.exists() else ""
        parts = [
            "# flask_kapu benchmark results",
            "",
            "Written by `make bench` (`python -m bench`); do not edit by hand — the notes at "
            "the end come from `bench/NOTES.md`.",
            "",
            f"- date: {self.started.strftime('%Y-%m-%d %H:%M UTC')}, run took "
            f"{self.seconds / 60:.1f} min",
            f"- machine: {m['cpu']}, {m['cores']} cores (shared), {m['memory']}; "
            f"{m['platform']}; load average at start {m['load_average_at_start']}",
            f"- Python {m['python']}, SQLite {m['sqlite']}; {packages}",
            f"- method: {self.settings['method']}",
            "",
            self.table(),
            "",
            summary,
        ]
        if notes:
            parts += ["", notes]
        return "\n".join(parts) + "\n"

    def write(self, directory: Path) -> tuple[Path, Path]:
        markdown = directory / "RESULTS.md"
        data = directory / "results.json"
        markdown.write_text(self.markdown(), encoding="utf-8")
        data.write_text(json.dumps(self.json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        return markdown, data


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def now() -> datetime:
    return datetime.now(timezone.utc)
