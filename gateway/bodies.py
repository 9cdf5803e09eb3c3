"""Reading request bodies: within a size limit and a time limit, always.

aiohttp's ``client_max_size`` is one app-wide number sized for actions; webhooks and callbacks have their own
limits, so every handler reads the stream through :func:`read_body` instead of ``request.read()``.
"""

from __future__ import annotations

import asyncio

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
