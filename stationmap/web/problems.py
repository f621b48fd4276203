"""Errors as ``application/problem+json`` (RFC 9457), with one reason per invalid parameter.

A client's mistake is a 4xx with words it can act on; an unexpected failure is a bare 500
that leaks nothing. The ``errors`` extension member lists ``{"parameter", "reason"}`` pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from ..errors import DataFileError, InputError

MIMETYPE = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None,
            errors: Iterable[dict[str, Any]] = (), headers: dict[str, str] | None = None) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    errors = list(errors)
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MIMETYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flatten(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow's nested ``{location: {field: [messages]}}`` as flat pairs."""
    pairs: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("query", "json", "view_args", "form", "headers") and not prefix:
                pairs += flatten(value, "")
            elif isinstance(key, int) or str(key).isdigit():     # a list item: name the list
                pairs += flatten(value, prefix)
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                pairs += flatten(value, name)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            pairs += flatten(item, prefix)
    else:
        pairs.append({"parameter": prefix or "request", "reason": str(messages)})
    return pairs


def from_http_exception(error: HTTPException) -> Response:
    """Translate any HTTP error (including webargs' validation errors) to a problem."""
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    errors = flatten(data.get("messages", data.get("errors", {})))
    if status == 422:            # webargs' "unprocessable" is, for query parameters, a bad request
        status = 400
    headers = {}
    if "Allow" in dict(error.get_headers()):
        headers["Allow"] = dict(error.get_headers())["Allow"]
    title = "Invalid request parameters" if errors else (error.name if status != 400 else "Bad request")
    detail = None if errors or status >= 500 else error.description
    return problem(status, title, detail, errors, headers)


def from_input_error(error: InputError) -> Response:
    """A 400 problem naming the bad parameter and why."""
    return problem(400, "Invalid request parameters", None,
                   [{"parameter": error.field or "request", "reason": error.reason}])


def from_data_file_error(error: DataFileError) -> Response:
    """A 400 problem listing every problem found in a data file."""
    return problem(400, "Invalid data", None,
                   [{"parameter": p.field or "file", "reason": p.message} for p in error.problems])
