"""Decode Stripe's form encoding and validate it against per-endpoint parameter specs.

The SDK sends ``a[b][c]=v``, arrays as ``expand[0]=x`` (and older clients ``expand[]=x``), booleans as
``true``/``false``, and an empty value to unset a field. Every value arrives as a string; the spec says what
it must be. A parameter the spec does not know is refused with ``parameter_unknown`` naming it, as Stripe
does (that is what catches a client sending a field an API version removed, e.g. promotion code ``coupon``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``[("a[b][0]", "x")]`` into ``{"a": {"b": ["x"]}}``."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        m = _KEY.match(raw_key)
        if not m:
            raise ValidationError(f"Invalid parameter name: {raw_key[:100]}", param=raw_key[:100])
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                # "x[]" appends: give it the next free numeric index so it folds into a list below.
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                if isinstance(node.get(part), dict):
                    raise ValidationError(f"Invalid value for {raw_key}: cannot be both a hash and a string")
                node[part] = value
            else:
                nxt = node.setdefault(part, {})
                if not isinstance(nxt, dict):
                    raise ValidationError(f"Invalid value for {raw_key}: cannot be both a hash and a string")
                node = nxt
    return _listify(root)  # type: ignore[no-any-return]


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# --- specs --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    max_len: int = 5000


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Float:
    pass


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Metadata:
    """String map. Stripe's limits: 50 keys, key <= 40 chars, value <= 500 chars; "" unsets."""


@dataclass(frozen=True)
class Obj:
    fields: Mapping[str, Spec]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class List:
    item: Spec
    max_items: int = 100


@dataclass(frozen=True)
class StrList:
    """A list of strings (``expand``, ``payment_method_types``); a single string is accepted too."""


@dataclass(frozen=True)
class IntOrEmpty:
    """An integer, or "" to unset (Stripe's ``emptyable``)."""


@dataclass(frozen=True)
class Any_:
    """Free-form value (used for test-only control data)."""


Spec = Str | Int | Float | Bool | Enum | Metadata | Obj | List | StrList | IntOrEmpty | Any_


@dataclass
class Params:
    values: dict[str, Any]
    expand: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.values


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _coerce(value: Any, spec: Spec, name: str) -> Any:
    if isinstance(spec, Any_):
        return value
    if isinstance(spec, Obj | Metadata | List | StrList) and value == "":
        # Stripe accepts "" to clear a hash or list-valued field.
        return {} if isinstance(spec, Obj | Metadata) else []
    if isinstance(spec, Str | Enum | Int | Float | Bool | IntOrEmpty) and not isinstance(value, str):
        raise ValidationError(f"Invalid string: {name} must be a string, not a hash or array", param=name)
    if isinstance(spec, Str):
        if len(value) > spec.max_len:
            raise ValidationError(
                f"Invalid string: {value[:20]}...; must be at most {spec.max_len} characters", param=name
            )
        return value
    if isinstance(spec, Enum):
        if value not in spec.values:
            choices = ", ".join(spec.values[:-1]) + (
                f", or {spec.values[-1]}" if len(spec.values) > 1 else ""
            )
            raise ValidationError(f"Invalid {name}: must be one of {choices}", param=name)
        return value
    if isinstance(spec, Int | IntOrEmpty):
        if isinstance(spec, IntOrEmpty) and value == "":
            return None
        if not re.fullmatch(r"-?\d+", value):
            raise ValidationError(
                f"Invalid integer: {value[:40]}", param=name, code="parameter_invalid_integer"
            )
        n = int(value)
        if isinstance(spec, Int):
            if spec.min is not None and n < spec.min:
                raise ValidationError(
                    f"This value must be greater than or equal to {spec.min}.",
                    param=name,
                    code="parameter_invalid_integer",
                )
            if spec.max is not None and n > spec.max:
                raise ValidationError(
                    f"This value must be less than or equal to {spec.max}.",
                    param=name,
                    code="parameter_invalid_integer",
                )
        return n
    if isinstance(spec, Float):
        try:
            return float(value)
        except ValueError:
            raise ValidationError(f"Invalid decimal: {value[:40]}", param=name) from None
    if isinstance(spec, Bool):
        if value not in ("true", "false"):
            raise ValidationError(f"Invalid boolean: {value[:40]}", param=name)
        return value == "true"
    if isinstance(spec, Metadata):
        if not isinstance(value, dict):
            raise ValidationError(f"Invalid hash: {name} must be a hash", param=name)
        for k, v in value.items():
            if not isinstance(v, str):
                raise ValidationError(f"Invalid string: {name}[{k}] must be a string", param=f"{name}[{k}]")
            if len(k) > 40:
                raise ValidationError("Metadata keys can have up to 40 characters", param=f"{name}[{k[:40]}]")
            if len(v) > 500:
                raise ValidationError("Metadata values can have up to 500 characters", param=f"{name}[{k}]")
        if len(value) > 50:
            raise ValidationError("You can have up to 50 metadata keys", param=name)
        return dict(value)
    if isinstance(spec, StrList):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValidationError(f"Invalid array: {name} must be an array of strings", param=name)
        return list(items)
    if isinstance(spec, List):
        if isinstance(value, dict):
            raise ValidationError(f"Invalid array: {name} must be an array", param=name)
        if not isinstance(value, list):
            raise ValidationError(f"Invalid array: {name} must be an array", param=name)
        if len(value) > spec.max_items:
            raise ValidationError(f"{name} can have at most {spec.max_items} items", param=name)
        return [_coerce(v, spec.item, f"{name}[{i}]") for i, v in enumerate(value)]
    if isinstance(spec, Obj):
        if not isinstance(value, dict):
            raise ValidationError(f"Invalid object: {name} must be a hash", param=name)
        return validate_obj(value, spec, name)
    raise AssertionError(f"unhandled spec {spec!r}")


def validate_obj(values: Mapping[str, Any], spec: Obj, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        sub = spec.fields.get(key)
        if sub is None:
            name = _name(prefix, key)
            raise ValidationError(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")
        out[key] = _coerce(value, sub, _name(prefix, key))
    for key in spec.required:
        if key not in out or out[key] in ("", None):
            name = _name(prefix, key)
            raise ValidationError(f"Missing required param: {name}.", param=name, code="parameter_missing")
    return out


def validate(raw: Mapping[str, Any], fields: Mapping[str, Spec], required: tuple[str, ...] = ()) -> Params:
    """Validate a whole request; ``expand`` is allowed everywhere, as in Stripe."""
    spec = Obj({**fields, "expand": StrList()}, required)
    values = validate_obj(raw, spec)
    expand = values.pop("expand", [])
    return Params(values, list(expand))
