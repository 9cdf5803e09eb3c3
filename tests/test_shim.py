import aiohttp
from aioresponses import aioresponses


async def test_aioresponses_works_with_this_aiohttp() -> None:
    with aioresponses() as mocked:
        mocked.get("http://127.0.0.1:9/x", payload={"ok": True}, status=201)
        async with aiohttp.ClientSession() as session, session.get("http://127.0.0.1:9/x") as resp:
            assert resp.status == 201
            assert await resp.json() == {"ok": True}
