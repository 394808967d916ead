"""Redirect targets are same-origin paths only."""

from __future__ import annotations

import pytest

from flask_kapu.responses import safe_next


@pytest.mark.parametrize("target", ["/", "/tax-return", "/a/b?x=1&y=2", "/%C3%A1"])
def test_same_origin_paths_are_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil",
        "/ok\r\nSet-Cookie: x=1",
        "/" + "a" * 3000,
    ],
)
def test_anything_else_goes_to_the_default(target):
    assert safe_next(target, "/home") == "/home"
