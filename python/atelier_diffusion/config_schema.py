"""Dataclass → JSON Schema, schema errors → Problems, dict → dataclass.

The config's dataclasses are the one source of truth: each field's type hint gives the JSON type and `spec(...)`
metadata gives the constraints, so the schema the TS side can fetch and the Python types never drift apart.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from dataclasses import field, fields, is_dataclass
from typing import Any

import jsonschema

from .protocol import Problem

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
_CONSTRAINTS = {"minimum": "minimum", "maximum": "maximum", "exclusive_minimum": "exclusiveMinimum",
                "min_length": "minLength", "min_items": "minItems", "enum": "enum"}


def spec(default: Any, *, doc: str = "", **constraints: Any) -> Any:
    """A dataclass field with a default, a description and JSON Schema constraints (minimum, maximum,
    exclusive_minimum, min_length, min_items, enum). List defaults are copied per instance."""
    unknown = set(constraints) - set(_CONSTRAINTS)
    if unknown:
        raise TypeError(f"unknown constraint(s) {sorted(unknown)}")
    meta = {"doc": doc, **constraints}
    if isinstance(default, list):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def _type_schema(hint: Any) -> dict[str, Any]:
    """JSON Schema of a type hint: scalars, X | None, unions of scalars, list[str], nested dataclasses."""
    if is_dataclass(hint):
        return build_schema(hint)
    origin = typing.get_origin(hint)
    if origin is list:
        return {"type": "array", "items": _type_schema(typing.get_args(hint)[0])}
    if origin in (typing.Union, types.UnionType):
        return {"type": [_JSON_TYPES[a] for a in typing.get_args(hint)]}
    return {"type": _JSON_TYPES[hint]}


def build_schema(cls: type) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a config dataclass: every key optional, no unknown keys."""
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        prop = _type_schema(hints[f.name])
        for key, json_key in _CONSTRAINTS.items():
            if key in f.metadata:
                prop[json_key] = f.metadata[key]
        if f.metadata.get("doc"):
            prop["description"] = f.metadata["doc"]
        props[f.name] = prop
    return {"type": "object", "properties": props, "additionalProperties": False,
            "description": (cls.__doc__ or "").strip().split("\n")[0]}


def _unknown_key_problems(err: jsonschema.ValidationError, where: str) -> list[Problem]:
    """One problem per unknown key, with the closest known key as a hint."""
    known = list(err.schema.get("properties", {}))
    out = []
    for key in sorted(set(err.instance) - set(known)):
        near = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {', '.join(known)})"
        out.append(Problem(f"{where}.{key}" if where else key, "unknown key" + hint))
    return out


def schema_problems(schema: dict[str, Any], data: Any) -> list[Problem]:
    """Every schema violation in `data` as Problems with dotted paths, sorted by path."""
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[Problem] = []
    for err in validator.iter_errors(data):
        where = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "additionalProperties":
            problems += _unknown_key_problems(err, where)
        else:
            problems.append(Problem(where or "(config)", f"{err.message}"))
    return sorted(problems, key=lambda p: p.path)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: nested dicts merge key by key, anything else in `extra` replaces. Inputs are not changed."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Builds dataclass `cls` from an already-validated dict, recursing into nested sections; ints given for
    float fields become floats so the types hold what the hints say."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value, hint = data[f.name], hints[f.name]
        if is_dataclass(hint):
            value = from_dict(hint, value)
        elif (hint is float or hint == float | None) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[f.name] = value
    return cls(**kwargs)
