"""Suite-wide fixtures and compatibility shims."""

from __future__ import annotations

from typing import Any

import aiohttp
import aioresponses.core

# --- aioresponses / aiohttp >= 3.14 shim ---------------------------------------------------------------
# aiohttp 3.14 (a security release we require) added a mandatory keyword ``stream_writer`` to
# ``ClientResponse.__init__``. aioresponses 0.7.9, the latest release, builds responses without it and
# fails with "ClientResponse.__init__() missing ... 'stream_writer'" (upstream aioresponses issue #289,
# fixed in the still-open PR #292). Until a fixed release exists, aioresponses builds its responses
# through this subclass, which supplies a default. Remove once aioresponses > 0.7.9 ships the fix.


class _NullStreamWriter:
    """Stands in for the request's stream writer: a mocked request sent nothing."""

    output_size = 0


class _CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NullStreamWriter())
        super().__init__(method, url, **kwargs)


_original_build_response = aioresponses.core.RequestMatch._build_response


def _build_response_compat(self: Any, *args: Any, **kwargs: Any) -> Any:
    if kwargs.get("response_class") is None:
        kwargs["response_class"] = _CompatClientResponse
    return _original_build_response(self, *args, **kwargs)


aioresponses.core.RequestMatch._build_response = _build_response_compat  # type: ignore[method-assign]
