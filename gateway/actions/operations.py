"""``operations.get``: the outcome of an action that answered ``pending`` (deadline mode, gateway/operations.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway import errors, speech
from gateway.actions.base import Action, ActionContext, ActionOutput, Params, Result, register
from gateway.operations import fetch


class OperationsGetParams(Params):
    operation_id: str = Field(
        pattern=r"^op_[0-9a-f]{32}$",
        description="The operation_id from an answer that said pending.",
    )


class OperationsGetResult(Result):
    operation_id: str
    action: str
    #: pending: still running; done: ``response`` is the final answer; failed: it ended in a retryable error
    #: (``response`` says which): repeat the original call with the same key.
    status: Literal["pending", "done", "failed"]
    response: dict[str, Any] | None


@register
class OperationsGet(Action):
    name = "operations.get"
    description = (
        "Get the final answer of an earlier request that said pending (still pending, done, or failed). "
        "When done, say the say of the response."
    )
    Params = OperationsGetParams
    Result = OperationsGetResult

    async def run(self, ctx: ActionContext, params: OperationsGetParams) -> ActionOutput:
        op = await fetch(ctx.services.store, ctx.tenant.id, params.operation_id)
        original = ctx.services.registry.get(op.action) if op is not None else None
        # Another key of the tenant may not read what its scopes would not let it do.
        if op is None or original is None or not original.scopes <= ctx.identity.scopes:
            raise errors.OperationNotFound()
        if op.state == "done" and op.response is not None:
            status: Literal["pending", "done", "failed"] = "done"
        elif op.state == "retry" and op.response is not None:
            status = "failed"
        else:
            status = "pending"
        say: str = speech.say("operation.still_running")
        if status != "pending" and op.response is not None:
            error = op.response.get("error")
            say = str(error.get("say")) if isinstance(error, dict) else str(op.response.get("say", say))
        return ActionOutput(
            result=OperationsGetResult(
                operation_id=op.id,
                action=op.action,
                status=status,
                response=op.response if status != "pending" else None,
            ),
            say=say,
        )
