"""``gateway.ping``: proves the frame end to end (auth, routing, audit) without touching a provider."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from gateway import speech
from gateway.actions.base import Action, ActionContext, ActionOutput, Params, Result, register


class PingParams(Params):
    pass


class PingResult(Result):
    tenant: str
    server_time: str
    unix_time: float


@register
class Ping(Action):
    name = "gateway.ping"
    description = "Check that the payment gateway is reachable and which tenant this agent key belongs to."
    Params = PingParams
    Result = PingResult

    async def run(self, ctx: ActionContext, params: PingParams) -> ActionOutput:
        now = time.time()
        return ActionOutput(
            result=PingResult(
                tenant=ctx.tenant.id,
                server_time=datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                unix_time=now,
            ),
            say=speech.say("ping.online"),
        )
