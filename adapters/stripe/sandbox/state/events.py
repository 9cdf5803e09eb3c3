"""Events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import params as P
from .base import (
    LIST_FIELDS,
    StateBase,
)


class EventsMixin(StateBase):
    # --- events --------------------------------------------------------------------------------------

    def event_retrieve(self, raw: Mapping[str, Any], a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(raw, {})
        return self.render(self.get("event", a["id"], "event"), p.expand)

    def event_list(self, raw: Mapping[str, Any], _a: Mapping[str, str]) -> dict[str, Any]:
        p = P.validate(
            raw, {**LIST_FIELDS, "type": P.Str(), "types": P.StrList(), "delivery_success": P.Bool()}
        )
        type_, types = p.get("type"), p.get("types")

        def pred(o: dict[str, Any]) -> bool:
            if type_ is not None:
                pattern = re.escape(type_).replace(r"\*", ".*")
                if not re.fullmatch(pattern, o["type"]):
                    return False
            return not types or o["type"] in types

        return self.render(self.page("event", p, "/v1/events", pred), p.expand)
