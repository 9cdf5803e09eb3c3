"""Stripe API versions: which one the adapter speaks, and what to do with an event rendered in another.

Stripe names a version ``YYYY-MM-DD.<release>``. The release name (``acacia``, ``basil``, ..., ``endive``)
marks a major release, which may break shapes; the monthly versions that share a release name only add
things (docs.stripe.com/upgrades, "API release process"). A webhook payload is rendered in the version
its *endpoint* was created with, not the one our requests send, so an endpoint created at another version
sends other shapes to the same handlers.

The rule (``event_version_decision``), documented in the README:

* the configured version: handle;
* another version of the **same release**: handle (only additions), counted and logged;
* a version of another release, or none: the event is stored and acknowledged (so Stripe stops
  retrying) but **not processed**: it is dead-lettered with the reason, counted and logged at error. The
  operator re-creates the endpoint at the configured version, then replays it (``voicepay webhooks
  replay``) once the shapes are understood.
"""

from __future__ import annotations

import re
from typing import Literal

import stripe

#: The version the installed SDK's types (``stripe.params``, the resource classes) describe.
PINNED_API_VERSION: str = stripe.api_version

_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})\.([a-z]+)$")

Decision = Literal["same", "same_release", "other_release"]


def release_of(version: str) -> str | None:
    """The major release name of ``version`` (``endive`` for ``2026-10-28.endive``), or None if malformed."""
    match = _VERSION.fullmatch(version)
    return match.group(2) if match else None


def is_valid_version(version: str) -> bool:
    return release_of(version) is not None


def event_version_decision(event_version: object, configured: str) -> Decision:
    if not isinstance(event_version, str):
        return "other_release"
    if event_version == configured:
        return "same"
    release = release_of(event_version)
    if release is not None and release == release_of(configured):
        return "same_release"
    return "other_release"
