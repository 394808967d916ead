"""conftest.py of the portal's tests: the ``app`` fixture flask_kapu's plugin needs."""

import pytest

from portal import create_app


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test secret",
            "KAPU_DATABASE_URL": f"sqlite:///{tmp_path / 'kapu.sqlite3'}",
            # cheap password hashing: tests hash a password for every account they make
            "KAPU_ARGON2_TIME_COST": 1,
            "KAPU_ARGON2_MEMORY_COST": 8,
            "KAPU_ARGON2_PARALLELISM": 1,
        }
    )
    result = app.test_cli_runner().invoke(args=["kapu", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app):
    return app.test_client()
