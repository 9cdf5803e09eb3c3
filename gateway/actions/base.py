"""What an action is, and the registry that the router, the catalogue and the OpenAPI document read.

An action is a class with a ``name``, a ``description`` the bot's LLM reads, the ``scopes`` an agent key needs,
whether it ``writes`` (changes money or state: then it must be idempotent), a pydantic ``Params`` model and a
``Result`` model, and ``async run(ctx, params)``. Registering it is the only step: the catalogue,
``?format=openai`` tool definitions and ``/openapi.json`` are generated from the registry.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from gateway.auth import AgentIdentity
    from gateway.services import Services
    from gateway.settings import TenantSettings

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class Params(BaseModel):
    """Base for action params: unknown fields are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: Fields of which exactly one must be given (the model's validator enforces it; the catalogue, OpenAPI
    #: document and tool definitions say it, see gateway/openapi.py).
    exactly_one_of: ClassVar[tuple[str, ...]] = ()


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(slots=True)
class ActionOutput:
    result: BaseModel
    say: str
    #: Provider object ids (refund id, payment intent id...) for the audit log.
    provider_ids: dict[str, Any] = field(default_factory=dict)
    #: SUCCEEDED or PENDING (an accepted refund that settles later).
    outcome: str = "SUCCEEDED"


@dataclass(slots=True)
class ActionContext:
    services: Services
    tenant: TenantSettings
    identity: AgentIdentity
    action: str
    request_id: str
    call_id: str | None
    idempotency_key: str | None
    #: The console operator acting (username), when not the bot: a logged-in human who has checked who they
    #: are dealing with, so it stands in for "the caller verified on this call" (gateway/console/refunds.py).
    operator: str | None = None

    def provider_key(self, *parts: str) -> str:
        """The provider idempotency key for one logical operation of this request.

        Derived from the gateway's idempotency record (tenant, action, key) plus the operation's name, so it is
        the same on every retry and after a restart, and differs between the operations of one action (the
        coupon and the promotion code of ``coupons.create``). It contains no personal data.
        """
        if self.idempotency_key is None:
            raise RuntimeError(f"{self.action} writes but has no idempotency key")
        material = "\x1f".join((self.tenant.id, self.action, self.idempotency_key, *parts))
        return "vp_" + hashlib.sha256(material.encode()).hexdigest()[:48]


class Action(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    scopes: ClassVar[frozenset[str]] = frozenset()
    writes: ClassVar[bool] = False
    Params: ClassVar[type[BaseModel]]
    Result: ClassVar[type[BaseModel]]

    @abstractmethod
    async def run(self, ctx: ActionContext, params: Any) -> ActionOutput: ...

    @classmethod
    def tool_name(cls) -> str:
        """OpenAI function names allow ``[a-zA-Z0-9_-]``: ``payments.lookup`` becomes ``payments_lookup``."""
        return cls.name.replace(".", "_")


_A = TypeVar("_A", bound=type[Action])


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}
        self._aliases: dict[str, str] = {}

    def register(self, cls: _A) -> _A:
        if not _NAME_RE.match(cls.name):
            raise ValueError(f"action name {cls.name!r} must look like 'group.verb'")
        if cls.name in self._actions:
            raise ValueError(f"action {cls.name!r} registered twice")
        self._actions[cls.name] = cls()
        self._aliases[cls.tool_name()] = cls.name
        return cls

    def get(self, name: str) -> Action | None:
        return self._actions.get(name) or self._actions.get(self._aliases.get(name, ""))

    def all(self) -> list[Action]:
        return [self._actions[n] for n in sorted(self._actions)]

    def allowed(self, scopes: frozenset[str]) -> list[Action]:
        return [a for a in self.all() if a.scopes <= scopes]


#: The registry of built-in actions; ``@register`` adds to it.
registry = ActionRegistry()
register = registry.register
