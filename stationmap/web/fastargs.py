"""A plain-Python fast path for a hot endpoint's simple query strings, derived from its schema.

webargs + marshmallow cost a nearest request more than the index, the records and the JSON
together (about 0.4 ms of 1.1 ms, measured). Most requests are a rider's plain
``lat``/``lon``/``k``/``radius_m``, so :class:`FastQuery` reads the marshmallow schema *once*
(field names, defaults, ``Range`` and ``OneOf`` validators) and parses such query strings
itself. It accepts only a strict subset of what marshmallow accepts (plain decimal numbers,
one value per parameter, no parameter it cannot check) and returns exactly what marshmallow
would; anything else, including every invalid request, goes to the full schema, which also
writes the error and the OpenAPI document. Nothing here is maintained by hand: a new field
or validator on the schema either is understood here or sends its requests down the slow
path (tested against the schema itself).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)\Z")
_INTEGER = re.compile(r"[+-]?\d+\Z")

Parser = Callable[[str], Any]
_NOTHING = object()


def _range_check(validators: list) -> Callable[[float], bool] | None:
    checks = []
    for v in validators:
        if not isinstance(v, ma.validate.Range):
            return None
        low, high = v.min, v.max
        checks.append((low, high, v.min_inclusive, v.max_inclusive))

    def ok(x: float) -> bool:
        for low, high, low_in, high_in in checks:
            if low is not None and (x < low or (x == low and not low_in)):
                return False
            if high is not None and (x > high or (x == high and not high_in)):
                return False
        return True
    return ok


def _number(pattern: re.Pattern, convert: Callable[[str], Any], in_range: Callable[[Any], bool]) -> Parser:
    def parse(raw: str) -> Any:
        if not pattern.match(raw):
            return _NOTHING
        value = convert(raw)
        if isinstance(value, float) and not math.isfinite(value):
            return _NOTHING
        return value if in_range(value) else _NOTHING
    return parse


def _choice(choices: frozenset[str]) -> Parser:
    return lambda raw: raw if raw in choices else _NOTHING


def _parser_for(field: ma.fields.Field) -> Parser | None:
    """A parser returning marshmallow's value for the inputs it accepts, or ``None`` if this
    field is beyond the fast path.
    """
    validators = list(field.validators)
    if type(field) is ma.fields.Float and not field.allow_nan:
        check = _range_check(validators)
        return None if check is None else _number(_DECIMAL, float, check)
    if type(field) is ma.fields.Integer:
        check = _range_check(validators)
        return None if check is None else _number(_INTEGER, int, check)
    if type(field) is ma.fields.String and len(validators) == 1 and isinstance(validators[0], ma.validate.OneOf):
        return _choice(frozenset(str(c) for c in validators[0].choices))
    return None


class FastQuery:
    """Parse a query string as ``schema`` would, when it is simple enough; else ``None``.

    Parameters
    ----------
    schema
        The marshmallow schema of the endpoint (its ``Meta.unknown`` must be ``EXCLUDE``,
        as query strings carry cache-busters and the like).
    slow
        Field names always left to the schema (those with schema-level validators, lists).
    """

    def __init__(self, schema: ma.Schema, slow: Iterable[str] = ()):
        if schema.unknown != ma.EXCLUDE:
            raise ValueError("the fast path ignores unknown parameters, as EXCLUDE does")
        slow = set(slow)
        self._parsers: dict[str, tuple[str, Parser]] = {}
        self._slow_keys: set[str] = set()
        self._required: list[str] = []
        self._defaults: list[tuple[str, Any]] = []
        for name, field in schema.fields.items():
            key = field.data_key or name
            parser = None if name in slow else _parser_for(field)
            if parser is None:
                self._slow_keys.add(key)
            else:
                self._parsers[key] = (name, parser)
            if field.required:
                self._required.append(name)
            elif field.load_default is not ma.missing:
                self._defaults.append((name, field.load_default))
        hooks = getattr(schema, "_hooks", {})
        if any(hooks.get(kind) for kind in ("pre_load", "post_load")):
            raise ValueError("the fast path cannot run the schema's pre_load/post_load hooks")

    def parse(self, args: MultiDict[str, str]) -> dict[str, Any] | None:
        """``args`` is a werkzeug ``MultiDict`` (``request.args``)."""
        out: dict[str, Any] = {}
        for key, values in args.lists():
            entry = self._parsers.get(key)
            if entry is None:
                if key in self._slow_keys:
                    return None
                continue                             # unknown: excluded, as the schema does
            if len(values) != 1:
                return None
            value = entry[1](values[0])
            if value is _NOTHING:
                return None
            out[entry[0]] = value
        for name in self._required:
            if name not in out:
                return None
        for name, default in self._defaults:
            if name not in out:
                out[name] = default() if callable(default) else default
        return out
