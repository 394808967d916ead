"""A readable browser and system summary of a User-Agent, for the sessions list.

ua-parser does the parsing (its maintained regexes, no hand-written ones);
this module only words its answer: "Firefox 128 on Windows 10".
"""

from __future__ import annotations

from ua_parser import parse_os, parse_user_agent

__all__ = ["MAX_LENGTH", "summary"]

MAX_LENGTH = 120  # the ``browser`` column of a session row
_UNKNOWN = "Other"  # ua-parser's family for what it does not recognise
_MAX_INPUT = 1024  # a genuine User-Agent is a few hundred characters


def summary(user_agent: str | None) -> str | None:
    """A summary such as "Firefox 128 on Windows 10", or as much of it as the User-Agent
    tells; ``None`` when it tells nothing recognisable."""
    if not user_agent:
        return None
    text = user_agent[:_MAX_INPUT]
    browser = parse_user_agent(text)
    system = parse_os(text)
    name = _name(browser.family, browser.major) if browser else None
    platform = _name(system.family, system.major) if system else None
    words = f"{name} on {platform}" if name and platform else name or platform or ""
    return words[:MAX_LENGTH] or None


def _name(family: str, major: str | None) -> str | None:
    if family == _UNKNOWN:
        return None
    return f"{family} {major}" if major else family
