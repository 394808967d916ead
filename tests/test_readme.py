"""The README's "Add it to your app" runs as written.

Its Python block is saved as ``app.py`` in an empty folder; ``flask kapu db upgrade``
and ``flask kapu register`` run there in a subprocess, outside debug mode, as a newcomer
would run them; the citizen then activates with the code the command showed and lands
on a page that exists.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import STRONG_PASSWORD, csrf_from

README = Path(__file__).resolve().parent.parent / "README.md"
CODE = re.compile(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b")


def readme_block(heading: str) -> str:
    """The first ```python block under ``heading``."""
    section = README.read_text("utf-8").split(f"## {heading}\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def flask(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MAIL_"))}
    return subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "app", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_app(folder: Path):
    spec = importlib.util.spec_from_file_location("readme_app", folder / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_app"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["readme_app"]
    return module.app


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The README's block as ``app.py``; outside debug mode, as in the README, even if a
    test before this one ran a ``flask --debug`` command in this process."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    (tmp_path / "app.py").write_text(readme_block("Add it to your app"), "utf-8")
    return tmp_path


def test_the_readme_steps_register_and_activate_a_citizen(folder):
    upgraded = flask(folder, "kapu", "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr

    registered = flask(folder, "kapu", "register", "KisAnna", "anna@example.hu")
    assert registered.returncode == 0, registered.stderr
    found = CODE.search(registered.stdout)
    assert found, "the activation code is shown where the README says: " + registered.stdout

    app = load_app(folder)
    assert not app.debug
    client = app.test_client()
    page = client.get("/kapu/activate?username=KisAnna").get_data(as_text=True)
    activated = client.post(
        "/kapu/activate",
        data={
            "csrf_token": csrf_from(page),
            "username": "KisAnna",
            "code": found.group(0),
            "new_password": STRONG_PASSWORD,
            "confirm": STRONG_PASSWORD,
        },
    )
    assert activated.status_code == 302, activated.get_data(as_text=True)

    landed = client.get(activated.headers["Location"])
    assert landed.status_code == 200
    assert client.get("/my-data").get_data(as_text=True) == "Hello, KisAnna"


def test_the_readme_says_where_the_activation_mail_is_shown():
    section = README.read_text("utf-8").split("## Add it to your app\n", 1)[1].split("\n## ")[0]
    text = " ".join(section.split())

    assert "MAIL_SERVER" in text
    assert "prints the activation mail" in text
