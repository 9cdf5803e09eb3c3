"""Reading request bodies: within a size limit and a time limit, always.

aiohttp's ``client_max_size`` is one app-wide number sized for actions; webhooks and callbacks have their own
limits, so every handler reads the stream through :func:`read_body` instead of ``request.read()``.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from gateway import errors

#: A client that trickles its body (slowloris) is cut off after this long.
BODY_READ_TIMEOUT = 10.0
_CHUNK = 64 * 1024


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, or 413 past ``limit`` bytes, or 400 if it takes longer than ``BODY_READ_TIMEOUT``."""
    if request.content_length is not None and request.content_length > limit:
        raise errors.PayloadTooLarge(details={"limit_bytes": limit})
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT):
            async for chunk in request.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise errors.PayloadTooLarge(details={"limit_bytes": limit})
                chunks.append(chunk)
    except TimeoutError:
        raise errors.BadRequest("The request body arrived too slowly.") from None
    return b"".join(chunks)


#: Strings (with their escapes) hide brackets from the depth count; they are removed before counting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in ``raw`` (outside strings); not a validator, a bound."""
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_json_depth(raw: bytes | str, limit: int) -> None:
    """Refuse (422 ``json_too_deep``) a body nested deeper than ``limit`` before anything parses it.

    Python's JSON decoder recurses once per level: a body a few kilobytes long nested 20,000 deep raises
    ``RecursionError`` in the parser, the card-data gate or any walker after it, which would surface as a 500
    with a traceback. No request this gateway accepts needs more than a handful of levels.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    # Fast path: fewer opening brackets than the limit cannot nest deeper than it.
    if data.count(b"[") + data.count(b"{") <= limit:
        return
    if json_depth(data) > limit:
        raise errors.JsonTooDeep(details={"max_depth": limit})
