"""PCI Pal adapter: API client, callback parsing/verification; the emulator lives in ``.emulator``.

Knows nothing about the gateway: it takes plain arguments and returns typed results or raises the
:mod:`adapters.outcomes` error tree.
"""

from adapters.pcipal.callbacks import (
    CallbackCardDataError,
    CallbackParseError,
    CallbackVerificationError,
    CallbackVerifier,
    CaptureResult,
    CaptureStatus,
    FieldMapping,
    body_contains_card_data,
    card_data_fields,
    contains_card_data,
    parse_callback,
    sign_callback,
)
from adapters.pcipal.client import LaunchResult, PciPalClient, Secret, should_retry

__all__ = [
    "CallbackCardDataError",
    "CallbackParseError",
    "CallbackVerificationError",
    "CallbackVerifier",
    "CaptureResult",
    "CaptureStatus",
    "FieldMapping",
    "LaunchResult",
    "PciPalClient",
    "Secret",
    "body_contains_card_data",
    "card_data_fields",
    "contains_card_data",
    "parse_callback",
    "should_retry",
    "sign_callback",
]
