"""The example app is an ordinary host app: factory, public page, protected page."""

from __future__ import annotations

import pytest

from example_app import DEMO_EMAIL, DEMO_USERNAME, create_app, seed_demo_account
from flask_kapu.mail import OutboxMailer
from flask_kapu.store.migrate import upgrade


@pytest.fixture
def demo(tmp_path):
    app = create_app({"KAPU_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"})
    upgrade(app.extensions["kapu"].deps.store.engine)
    return app


def test_the_home_page_is_public(demo):
    response = demo.test_client().get("/")
    assert response.status_code == 200
    assert "Mintaváros" in response.get_data(as_text=True)


def test_my_data_needs_a_login(demo):
    response = demo.test_client().get("/my-data")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kapu/login?next=/my-data")


def test_the_demo_account_waits_with_its_activation_mail_in_the_outbox(demo):
    with demo.app_context():
        seed_demo_account()
        seed_demo_account()  # a second run mails a fresh code instead of failing
    mailer = demo.extensions["kapu"].mailer
    assert isinstance(mailer, OutboxMailer)
    demo.extensions["kapu"].notifier.wait()
    assert [m["To"] for m in mailer.messages] == [DEMO_EMAIL, DEMO_EMAIL]
    with demo.extensions["kapu"].deps.store.transaction() as repo:
        assert repo.account_by_username(DEMO_USERNAME).status == "pending"


@pytest.fixture
def app(demo):
    """The example app is the host app of this module (the plugin's fixtures use it)."""
    return demo


def test_the_tax_return_opens_only_at_plusz(app, kapu_account, kapu_login):
    client = app.test_client()
    citizen = kapu_account()
    kapu_login(client, citizen)
    refused = client.get("/tax-return")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/plusz?next=/tax-return")
    kapu_login(client, citizen, level="plusz")
    page = client.get("/tax-return")
    assert page.status_code == 200
    assert citizen.username in page.get_data(as_text=True)
