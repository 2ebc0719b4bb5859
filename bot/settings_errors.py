"""A pydantic ValidationError of the settings as one line per bad variable: its name, the expected form and the
value given (never a secret's)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


def describe_errors(
    exc: ValidationError, prefix: str, secret_fields: Collection[str], forms: Mapping[str, str]
) -> list[str]:
    """One line per problem, naming the environment variable (`prefix` + the field's name in capitals) and the
    expected form; `forms` spells out the form of a field checked by a pattern."""
    lines = (_describe(error, prefix, secret_fields, forms) for error in exc.errors(include_url=False))
    return list(dict.fromkeys(lines))


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _describe(error: ErrorDetails, prefix: str, secret_fields: Collection[str], forms: Mapping[str, str]) -> str:
    loc = error["loc"]
    if not loc:  # a model validator's message names its variables itself
        return str(error.get("ctx", {}).get("error") or error["msg"])
    field = str(loc[0])
    name = f"{prefix}{field.upper()}"
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    raw = error["input"]
    shown = raw if isinstance(raw, str) and raw else repr(raw)
    got = "" if field in secret_fields else f" (got {shown[:80]!s})"
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"{name} must be at least {_number(ctx['ge'])}{got}"
    if kind == "greater_than":
        return f"{name} must be greater than {_number(ctx['gt'])}{got}"
    if kind == "less_than_equal":
        return f"{name} must be at most {_number(ctx['le'])}{got}"
    if kind == "less_than":
        return f"{name} must be less than {_number(ctx['lt'])}{got}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{name} must be a whole number{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{name} must be true or false{got}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{name} must be a finite number{got}"
    if kind == "literal_error":
        return f"{name} must be one of {ctx['expected']}{got}"
    if kind in ("string_pattern_mismatch", "string_too_short"):
        return f"{name} must be {forms.get(field, 'a non-empty value')}{got}"
    if kind == "value_error":
        return f"{name} {ctx['error']}{got}"
    return f"{name}: {error['msg']}{got}"
