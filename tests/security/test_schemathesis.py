"""Schemathesis against the gateway's own ``/openapi.json``, served live (Stripe sandbox + PCI Pal emulator
behind it, a valid agent key with every scope), so generated params really reach the actions and Stripe.

For every operation in the document: positive cases (params generated from the action's schema, random
``Idempotency-Key`` / ``X-Call-Id``) and negative cases (schema-violating bodies and headers). Every response
must pass ``not_a_server_error`` (no 5xx other than the documented, speakable 503), ``status_code_conformance``
(the status is documented), ``content_type_conformance`` and ``response_schema_conformance`` (the body matches
the documented schema for that status).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import LiveStack

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 20


def _schema(live: LiveStack) -> Any:
    doc = requests.get(f"{live.base_url}/openapi.json", timeout=10).json()
    return schemathesis.openapi.from_dict(doc)


def _operations(live: LiveStack) -> list[Any]:
    return [result.ok() for result in _schema(live).get_all_operations()]


def test_document_lists_every_route_and_action(live: LiveStack) -> None:
    doc = requests.get(f"{live.base_url}/openapi.json", timeout=10).json()
    actions = requests.get(f"{live.base_url}/v1/actions", headers=live.auth(), timeout=10).json()["actions"]
    assert actions, "the key has every scope, so it sees every action"
    for entry in actions:
        assert f"/v1/actions/{entry['name']}" in doc["paths"]
    for path in ("/healthz", "/readyz", "/metrics", "/v1/actions", "/openapi.json", "/v1/webhooks/stripe/{tenant}",
                 "/v1/callbacks/pcipal/{tenant}"):
        assert path in doc["paths"], path


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_operation_conforms(live: LiveStack, mode: schemathesis.GenerationMode) -> None:
    operations = _operations(live)
    assert len(operations) > 5
    session = requests.Session()
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            # The agent key is applied to every operation (security schemes are not generated): an
            # unauthenticated 401 would stop the fuzzer at the door.
            headers = dict(case.headers or {})
            headers.update(live.auth())
            case.headers = headers
            response = case.call_and_validate(base_url=live.base_url, session=session, checks=CHECKS, timeout=30)
            statuses.setdefault(operation.label, set()).add(response.status_code)

        try:
            run()
        except Unsatisfiable:
            # Negative mode on an operation with nothing to negate (no params, no body): nothing to send.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    if mode is schemathesis.GenerationMode.POSITIVE:
        # Honest fuzzing: generated params got past validation into actions that called the Stripe sandbox.
        ran = [k for k, v in statuses.items() if k.startswith("POST /v1/actions/") and 200 in v]
        assert len(ran) >= 3, statuses
