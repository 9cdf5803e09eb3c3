"""Helpers for HTTP-surface tests: a registry with test-only actions, and a client factory."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.actions.base import Action, ActionContext, ActionOutput, ActionRegistry, Params, Result
from gateway.actions.ping import Ping


class EchoParams(Params):
    text: str
    amount: int = 0


class EchoResult(Result):
    text: str
    runs: int
    provider_key: str


class Echo(Action):
    """A write action that counts its real executions (so a replay is distinguishable from a rerun)."""

    name = "test.echo"
    description = "Echo text back (test only)."
    scopes = frozenset({"refunds:write"})
    writes = True
    Params = EchoParams
    Result = EchoResult
    runs = 0
    delay = 0.0
    fail_with: BaseException | None = None

    async def run(self, ctx: ActionContext, params: EchoParams) -> ActionOutput:
        type(self).runs += 1
        if type(self).delay:
            await asyncio.sleep(type(self).delay)
        if type(self).fail_with is not None:
            raise type(self).fail_with
        return ActionOutput(
            result=EchoResult(text=params.text, runs=type(self).runs, provider_key=ctx.provider_key("op")),
            say=f"You said {params.text}.",
            provider_ids={"echo": params.text},
        )


def make_registry() -> ActionRegistry:
    Echo.runs = 0
    Echo.delay = 0.0
    Echo.fail_with = None
    reg = ActionRegistry()
    reg.register(Ping)
    reg.register(Echo)
    return reg


def auth(key: str, **extra: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {key}", **extra}
