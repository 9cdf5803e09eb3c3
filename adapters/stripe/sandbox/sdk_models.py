"""Check a response object against the installed stripe SDK's resource class (``stripe.PaymentIntent``, ...).

The SDK's classes are generated from Stripe's API description of the pinned version. A field annotated without
``Optional`` is one Stripe always sends (possibly as an empty list or hash); a field typed
``Literal[...] | str`` has the Literal's values as its enum (the ``str`` is the SDK's forward-compatibility
widening). :func:`model_problems` lists every way a sandbox object departs from that: missing always-present
fields, ``null`` where the type does not allow it, a value of the wrong JSON type, an enum value outside its
Literal; it walks nested objects, lists and expanded references.
"""

from __future__ import annotations

import importlib
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, ForwardRef, Literal, Union, get_args, get_origin

from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._search_result_object import SearchResultObject
from stripe._stripe_object import StripeObject

_NONE = type(None)


def resource_class(object_name: str) -> type[StripeObject] | None:
    """The SDK class for an ``object`` value (``payment_intent`` -> ``stripe.PaymentIntent``)."""
    ref = OBJECT_CLASSES.get(object_name)
    if ref is None:
        return None
    cls: type[StripeObject] = getattr(importlib.import_module(ref[0]), ref[1])
    return cls


def _annotations(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, tp in getattr(cls, "__annotations__", {}).items():
        if get_origin(tp) is ClassVar or tp is ClassVar or key.startswith("_"):
            continue
        out[key] = tp
    return out


def _resolve(tp: Any, owner: type) -> Any:
    if isinstance(tp, str):
        tp = ForwardRef(tp)
    if isinstance(tp, ForwardRef):
        name = tp.__forward_arg__
        namespace = dict(vars(sys.modules[owner.__module__]))
        import stripe  # the TYPE_CHECKING-only names of the SDK's modules are its public classes

        namespace.setdefault(name, getattr(stripe, name, None))
        try:
            tp = eval(name, namespace)  # noqa: S307 (the SDK's own generated annotations)
        except (NameError, AttributeError, SyntaxError):
            return Any
        if tp is None:
            return Any
    return tp


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    if get_origin(tp) is Union or isinstance(tp, types.UnionType):
        return get_args(tp)
    return None


class _Walk:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def obj(self, value: Mapping[str, Any], cls: type, path: str) -> None:
        for key, tp in _annotations(cls).items():
            sub = f"{path}.{key}"
            if key not in value:
                if not self.optional(tp, cls):
                    self.problems.append(f"{sub}: missing (declared always present)")
                continue
            self.value(value[key], tp, cls, sub)

    def optional(self, tp: Any, owner: type) -> bool:
        members = _union_members(_resolve(tp, owner))
        return members is not None and _NONE in members

    def value(self, value: Any, tp: Any, owner: type, path: str) -> None:
        tp = _resolve(tp, owner)
        if tp is Any:
            return
        members = _union_members(tp)
        if members is not None:
            self.union(value, members, owner, path)
            return
        if value is None:
            self.problems.append(f"{path}: null, declared non-nullable")
            return
        origin = get_origin(tp)
        if origin is Literal:
            if value not in get_args(tp):
                self.problems.append(f"{path}: {value!r} not one of {get_args(tp)}")
        elif origin in (list, typing.List):  # noqa: UP006
            if not isinstance(value, list):
                self.problems.append(f"{path}: {type(value).__name__}, declared a list")
                return
            for i, item in enumerate(value):
                self.value(item, get_args(tp)[0], owner, f"{path}[{i}]")
        elif origin in (dict, typing.Dict) or tp is dict:  # noqa: UP006
            if not isinstance(value, dict):
                self.problems.append(f"{path}: {type(value).__name__}, declared a hash")
        elif isinstance(origin, type) and issubclass(origin, ListObject | SearchResultObject):
            self.list_object(value, get_args(tp)[0] if get_args(tp) else Any, owner, path)
        elif isinstance(tp, type) and issubclass(tp, ListObject | SearchResultObject):
            self.list_object(value, Any, owner, path)
        elif isinstance(tp, type) and issubclass(tp, StripeObject):
            if not isinstance(value, dict):
                self.problems.append(f"{path}: {type(value).__name__}, declared an object")
                return
            cls = tp
            if (actual := value.get("object")) and hasattr(tp, "OBJECT_NAME") and actual != tp.OBJECT_NAME:
                cls = resource_class(actual) or tp
            self.obj(value, cls, path)
        else:
            self.scalar(value, tp, path)

    def list_object(self, value: Any, item: Any, owner: type, path: str) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            self.problems.append(f"{path}: not a list object")
            return
        for key in ("object", "has_more", "url"):
            if key not in value:
                self.problems.append(f"{path}.{key}: missing (list object)")
        for i, entry in enumerate(value["data"]):
            self.value(entry, item, owner, f"{path}.data[{i}]")

    def union(self, value: Any, members: tuple[Any, ...], owner: type, path: str) -> None:
        if value is None:
            if _NONE not in members:
                self.problems.append(f"{path}: null, declared non-nullable")
            return
        resolved = [_resolve(m, owner) for m in members if m is not _NONE]
        literals = [v for m in resolved if get_origin(m) is Literal for v in get_args(m)]
        others = [m for m in resolved if get_origin(m) is not Literal]
        if literals and str in others and isinstance(value, str):
            # ``Literal[...] | str``: the enum is the Literal.
            if value not in literals:
                self.problems.append(f"{path}: {value!r} not one of {tuple(literals)}")
            return
        if isinstance(value, str) and (str in others or value in literals):
            return  # an id, or a string-typed value
        if isinstance(value, dict):
            # An expanded reference or a nested object: check against the member it claims to be.
            for m in others:
                if isinstance(m, type) and issubclass(m, StripeObject):
                    name = getattr(m, "OBJECT_NAME", None)
                    if name is None or name == value.get("object"):
                        self.value(value, m, owner, path)
                        return
            cls = resource_class(str(value.get("object", "")))
            if cls is not None and any(m is Any for m in others):
                self.obj(value, cls, path)
            return
        for m in others:
            sub = _Walk()
            sub.value(value, m, owner, path)
            if not sub.problems:
                return
        self.problems.append(f"{path}: {value!r} fits none of {members}")

    def scalar(self, value: Any, tp: Any, path: str) -> None:
        ok = {
            str: isinstance(value, str),
            int: isinstance(value, int) and not isinstance(value, bool),
            float: isinstance(value, int | float) and not isinstance(value, bool),
            bool: isinstance(value, bool),
        }.get(tp, True)
        if not ok:
            self.problems.append(f"{path}: {value!r} is not {getattr(tp, '__name__', tp)}")


def model_problems(obj: Mapping[str, Any], cls: type | None = None, path: str | None = None) -> list[str]:
    """Every departure of ``obj`` from its SDK class (found from ``obj["object"]`` when ``cls`` is None)."""
    cls = cls or resource_class(str(obj.get("object", "")))
    if cls is None:
        return [f"{path or obj.get('object')}: no SDK class for object {obj.get('object')!r}"]
    walk = _Walk()
    walk.obj(obj, cls, path or str(obj.get("object")))
    return walk.problems
