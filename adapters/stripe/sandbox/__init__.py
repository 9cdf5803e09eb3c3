"""A stateful emulator of the Stripe API subset voicepay-gateway uses (issue 4, "Stripe sandbox").

Served by aiohttp on 127.0.0.1; the real stripe SDK talks to it through ``base_addresses={"api": url}``.
Every test believes it, so it follows Stripe's documented behaviour: form-encoded requests, Stripe's error
shape and status codes, unknown parameters refused, idempotency keys (replay, 400 on different parameters,
409 in flight, 24 h), signed webhook delivery with retries, and fault injection.

Run it: ``python -m adapters.stripe.sandbox --host 127.0.0.1 --port 12111 --seed``.
The control API lives under ``/_sandbox/`` (see core.py), outside the emulated ``/v1`` surface.
"""

from .core import DeliveryRecord, RequestRecord, StripeSandbox, WebhookEndpoint
from .faults import FAULT_KINDS, Fault, FaultInjector
from .state import API_VERSION, TEST_CARDS

__all__ = [
    "API_VERSION",
    "FAULT_KINDS",
    "TEST_CARDS",
    "DeliveryRecord",
    "Fault",
    "FaultInjector",
    "RequestRecord",
    "StripeSandbox",
    "WebhookEndpoint",
]
