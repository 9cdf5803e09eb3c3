"""Injected failures, so tests can prove what the gateway does when Stripe is slow, down or flaky.

Kinds, and when in the request's life they strike:

* ``latency``: sleep ``latency_ms`` and then serve the request normally (after the idempotency key
  is claimed, so a concurrent duplicate sees 409 meanwhile).
* ``500``: answer 500 ``api_error`` before the endpoint runs: nothing happened, nothing is stored
  under the idempotency key (like an error in front of Stripe's API servers), so a retry
  with the same key executes. ``Stripe-Should-Retry: true``.
* ``500_stored``: run nothing but answer 500 *and store it* under the idempotency key, as Stripe documents
  for a 500 its endpoint produced: a retry with the same key replays the 500.
* ``429``: answer 429 ``rate_limit`` before the endpoint runs; ``retry_after`` sets ``Retry-After``.
* ``timeout``: hold the request without running it for ``latency_ms`` (default 30 s, or until the
  sandbox stops) and then drop the connection: the client's own timeout fires first.
* ``drop_after_commit``: run the request, store its result under the idempotency key, then drop the connection
  without answering: the client cannot know it happened. A retry with the same key gets
  the stored result (``Idempotent-Replayed: true``), a retry with a new key does it twice.

``count`` limits how many matching requests a fault hits (``None``: until removed).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

FaultKind = Literal["latency", "500", "500_stored", "429", "timeout", "drop_after_commit"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass
class Fault:
    id: int
    kind: str
    path_prefix: str = "/v1/"
    method: str | None = None
    count: int | None = None
    latency_ms: int | None = None
    retry_after: int | None = None
    hits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        *,
        kind: str,
        path_prefix: str = "/v1/",
        method: str | None = None,
        count: int | None = None,
        latency_ms: int | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be >= 1 (or None for unlimited)")
        if kind == "latency" and latency_ms is None:
            raise ValueError("latency faults need latency_ms")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            path_prefix=path_prefix,
            method=method.upper() if method else None,
            count=count,
            latency_ms=latency_ms,
            retry_after=retry_after,
        )
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def all(self) -> list[Fault]:
        return list(self._faults)

    def take(self, method: str, path: str) -> list[Fault]:
        """The faults hitting this request, each consumed once (exhausted ones are removed)."""
        hit: list[Fault] = []
        for fault in list(self._faults):
            if fault.method and fault.method != method.upper():
                continue
            if not path.startswith(fault.path_prefix):
                continue
            fault.hits += 1
            hit.append(fault)
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
        return hit
