"""Helpers for API tests."""


def errors_of(response) -> dict[str, list[str]]:
    """``{attr: [code, ...]}`` of a standardized error response."""
    body = response.json()
    found: dict[str, list[str]] = {}
    for error in body["errors"]:
        found.setdefault(error["attr"], []).append(error["code"])
    return found
