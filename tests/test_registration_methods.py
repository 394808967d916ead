"""``KAPU_REGISTRATION_METHODS``: a host offers only the ways in it wants.

What is turned off answers 404 (page and API), is absent from the OpenAPI
document, and flask_kapu's own pages no longer link to it.
"""

from __future__ import annotations

import pytest
from conftest import Api, empty_tables, make_app

from flask_kapu.errors import KapuConfigError

JSON = {"Accept": "application/json"}
SELF_SERVICE = {"/kapu/register": "/kapu/api/register"}
EID = {"/kapu/register/eid": "/kapu/api/register/eid"}
EID_API = ["/kapu/api/register/eid/check", "/kapu/api/register/eid"]
REGISTER_LINK = 'href="/kapu/register"'
EID_LINK = 'href="/kapu/register/eid"'


@pytest.fixture
def hosted(database_url, smtp_server):
    """``hosted(methods)``: an app and its ``Kapu`` offering ``methods``."""
    made = []

    def make(methods):
        app, kapu = make_app(database_url, smtp_server[1], KAPU_REGISTRATION_METHODS=methods)
        empty_tables(app.extensions["kapu"])
        made.append(app.extensions["kapu"])
        return app, kapu

    yield make
    for state in made:
        state.notifier.wait()
        state.deps.store.dispose()


def documented(client):
    return set(client.get("/kapu/api/openapi.json").get_json()["paths"])


def posted(client, path):
    return Api(client).post(path.removeprefix("/kapu/api"), {})


@pytest.mark.parametrize(
    "app_config", [{"KAPU_REGISTRATION_METHODS": ["office", "eid"]}], indirect=True
)
class TestWithoutSelfService:
    def test_the_registration_page_answers_404(self, client):
        assert client.get("/kapu/register").status_code == 404
        assert client.post("/kapu/register", data={}).status_code == 404

    def test_the_registration_api_answers_404_problem(self, client):
        response = posted(client, "/kapu/api/register")

        assert response.status_code == 404
        assert response.get_json()["code"] == "not_found"

    def test_the_openapi_document_leaves_it_out(self, client):
        paths = documented(client)

        assert "/kapu/api/register" not in paths
        assert set(EID_API) <= paths

    def test_the_login_page_no_longer_links_to_it(self, client):
        page = client.get("/kapu/login").get_data(as_text=True)

        assert REGISTER_LINK not in page
        assert EID_LINK in page

    def test_e_id_registration_is_still_served(self, client):
        assert client.get("/kapu/register/eid").status_code == 200


@pytest.mark.parametrize(
    "app_config", [{"KAPU_REGISTRATION_METHODS": ["office", "self_service"]}], indirect=True
)
class TestWithoutEid:
    def test_the_e_id_page_answers_404_though_a_registry_is_given(self, client):
        assert client.get("/kapu/register/eid").status_code == 404

    @pytest.mark.parametrize("path", EID_API)
    def test_the_e_id_api_answers_404(self, client, path):
        assert posted(client, path).status_code == 404

    def test_the_openapi_document_leaves_it_out(self, client):
        paths = documented(client)

        assert not set(EID_API) & paths
        assert "/kapu/api/register" in paths

    def test_the_login_page_links_to_self_service_only(self, client):
        page = client.get("/kapu/login").get_data(as_text=True)

        assert REGISTER_LINK in page
        assert EID_LINK not in page


@pytest.mark.parametrize("app_config", [{"KAPU_REGISTRATION_METHODS": ["office"]}], indirect=True)
class TestOfficeOnly:
    """A town that registers citizens only at its desk."""

    @pytest.mark.parametrize("path", ["/kapu/register", "/kapu/register/eid"])
    def test_no_registration_page_is_served(self, client, path):
        assert client.get(path).status_code == 404

    def test_no_registration_operation_is_documented(self, client):
        assert not {p for p in documented(client) if p.startswith("/kapu/api/register")}

    def test_the_login_page_has_no_registration_link(self, client):
        page = client.get("/kapu/login").get_data(as_text=True)

        assert REGISTER_LINK not in page
        assert EID_LINK not in page


def test_office_only_still_registers_at_the_office(hosted, mailbox):
    app, kapu = hosted(["office"])
    with app.app_context():
        account = kapu.register("KisAnna", "anna@example.hu")

    assert account.username == "KisAnna"
    assert mailbox.wait_for("anna@example.hu")


def test_without_office_kapu_register_is_refused(hosted):
    app, kapu = hosted(["self_service", "eid"])
    with app.app_context(), pytest.raises(KapuConfigError, match="KAPU_REGISTRATION_METHODS"):
        kapu.register("KisAnna", "anna@example.hu")


def test_by_default_every_way_in_is_offered(client):
    page = client.get("/kapu/login").get_data(as_text=True)

    assert REGISTER_LINK in page
    assert EID_LINK in page
    assert {"/kapu/api/register", *EID_API} <= documented(client)


@pytest.mark.parametrize("value", ["office", ["office", "post"], [1]])
def test_an_unknown_registration_method_is_refused_at_startup(value):
    from flask_kapu.config import load_config

    with pytest.raises(KapuConfigError, match="KAPU_REGISTRATION_METHODS"):
        load_config({"KAPU_REGISTRATION_METHODS": value})


def test_without_office_the_cli_refuses_to_register(hosted):
    app, _ = hosted(["self_service", "eid"])

    result = app.test_cli_runner().invoke(args=["kapu", "register", "KisAnna", "anna@example.hu"])

    assert result.exit_code == 1
    assert "KAPU_REGISTRATION_METHODS" in result.output
