from conftest import STRONG_PASSWORD


def test_activate_then_login(api, registered, mailbox):
    username, code = registered
    r = api.post("/activate", {"username": username, "code": code, "new_password": STRONG_PASSWORD})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["level"] == "ugyfelkapu"
    api.post("/logout")
    r = api.post("/login", {"username": username, "password": STRONG_PASSWORD})
    assert r.status_code == 200, r.get_json()
