"""Tool definitions an LLM uses well (issue 12 point 8).

``GET /v1/actions?format=openai`` is checked against OpenAI's strict function calling (Structured Outputs,
"supported schemas"): an object root, ``additionalProperties: false`` and every property in ``required`` on
every object, optional fields as type arrays with ``"null"``, only supported keywords (no ``oneOf``, ``allOf``,
``not``, ``if``/``then``/``else``, ``dependent*``; no titles or defaults), at most 10 levels and 5000
properties; names as the model calls them, no transport details, every field described, an example per tool.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from gateway.actions import load_builtin_actions
from gateway.openapi import TOOL_EXAMPLES, catalogue_entry, openai_tool
from tests.gateway.conftest import new_key
from tests.gateway.helpers import auth, make_registry

ALL_SCOPES = ("payments:read", "refunds:write", "coupons:write", "subscriptions:read", "customers:verify",
              "escalations:write", "capture:write")
ALLOWED = {"type", "description", "enum", "const", "properties", "required", "additionalProperties", "items",
           "anyOf", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
           "multipleOf", "minItems", "maxItems"}
TRANSPORT = re.compile(r"\b(X-[A-Za-z-]+|Idempotency-Key|HTTP|[Hh]eaders?)\b")
PRIMITIVES = {"string", "number", "integer", "boolean", "object", "array", "null"}


def check_strict(node: dict[str, Any], path: str, depth: int, counts: dict[str, int]) -> None:
    """Assert one schema node (and below) meets the strict-mode rules."""
    assert set(node) <= ALLOWED, f"{path}: unsupported keywords {set(node) - ALLOWED}"
    if "anyOf" in node:
        variants = node["anyOf"]
        non_null = [v for v in variants if v != {"type": "null"}]
        # A nullable single type is a type array, not an anyOf-null union.
        assert len(non_null) > 1, f"{path}: anyOf-null union where a type array would do"
        for i, v in enumerate(variants):
            check_strict(v, f"{path}.anyOf[{i}]", depth, counts)
        return
    kinds = node["type"] if isinstance(node.get("type"), list) else [node.get("type")]
    assert kinds and set(kinds) <= PRIMITIVES, f"{path}: type {node.get('type')!r}"
    if isinstance(node.get("type"), list):
        assert len(kinds) == 2 and "null" in kinds, f"{path}: a type array is one type plus null"
        if "enum" in node:
            assert None in node["enum"], f"{path}: a nullable enum lists null"
    if "object" in kinds:
        assert depth <= 10, f"{path}: nested deeper than 10"
        props = node.get("properties", {})
        assert node.get("additionalProperties") is False, f"{path}: additionalProperties must be false"
        assert node.get("required") == list(props), f"{path}: every property must be required"
        counts["properties"] += len(props)
        for name, sub in props.items():
            assert isinstance(sub.get("description"), str) and len(sub["description"]) >= 10, (
                f"{path}.{name}: every field is described"
            )
            check_strict(sub, f"{path}.{name}", depth + 1, counts)
    if "array" in kinds:
        check_strict(node["items"], f"{path}[]", depth, counts)
    if "enum" in node:
        counts["enum"] += len(node["enum"])


async def test_openai_tools_meet_strict_function_calling(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=load_builtin_actions())
    key = await new_key(client, scopes=ALL_SCOPES)
    body = await (await client.get("/v1/actions?format=openai", headers=auth(key))).json()
    registry = load_builtin_actions()
    action_names = {a.name for a in registry.all()}
    tools = body["tools"]
    assert {t["function"]["name"] for t in tools} == {a.tool_name() for a in registry.all()}
    for tool in tools:
        fn = tool["function"]
        name = fn["name"]
        assert tool["type"] == "function" and fn["strict"] is True
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name)
        params = fn["parameters"]
        assert params["type"] == "object" and "anyOf" not in params, name
        counts = {"properties": 0, "enum": 0}
        check_strict(params, name, 1, counts)
        assert counts["properties"] <= 5000 and counts["enum"] <= 1000
        texts = [fn["description"], *(p["description"] for p in params["properties"].values())]
        for text in texts:
            # Names as the model sees them: never a dotted action name in text the model reads.
            assert not [n for n in action_names if n in text], (name, text)
            assert not TRANSPORT.search(text), (name, text)
        # An example per tool: the full arguments a strict model would send, valid for the schema...
        match = re.search(r"Example arguments: (\{.*\})\.$", fn["description"])
        assert match, name
        example = json.loads(match.group(1))
        jsonschema.validate(example, params)
        # ...and accepted by the gateway as it is (nulls meaning "not given").
        resp = await client.post(f"/v1/actions/{name}", json=example, headers=auth(key, **{"X-Call-Id": "c1"}))
        assert resp.status != 422 or (await resp.json())["error"]["code"] != "validation_failed", (name, example)


def test_exactly_one_of_is_in_the_schema_and_said_in_the_tool_text():
    registry = load_builtin_actions()
    names = frozenset(a.name for a in registry.all())
    lookup = registry.get("payments.lookup")
    assert lookup is not None
    params = catalogue_entry(lookup)["params"]
    one_of = [branch["required"] for branch in params["oneOf"]]
    assert one_of == [["email"], ["phone"], ["customer_id"], ["payment_id"]]
    validator = jsonschema.Draft202012Validator(params)
    assert validator.is_valid({"email": "ada@example.com"})
    assert validator.is_valid({"email": "ada@example.com", "phone": None})
    assert not validator.is_valid({"email": "ada@example.com", "phone": "+447700900123"})
    assert not validator.is_valid({"limit": 3})
    tool = openai_tool(lookup, names)["function"]
    assert "Give exactly one of email, phone, customer_id or payment_id." in tool["description"]
    assert "exactly one; null otherwise" in tool["parameters"]["properties"]["phone"]["description"]
    coupons = registry.get("coupons.create")
    assert coupons is not None
    assert [b["required"] for b in catalogue_entry(coupons)["params"]["oneOf"]] == [["percent_off"], ["amount_off"]]


def test_every_builtin_tool_has_an_example_its_params_accept():
    registry = load_builtin_actions()
    for action in registry.all():
        example = TOOL_EXAMPLES.get(action.name)
        assert example is not None, f"{action.name} has no example"
        action.Params.model_validate(example)
        assert catalogue_entry(action)["params"]["examples"] == [example]


def test_customers_verify_text_names_the_tool_and_no_header():
    registry = load_builtin_actions()
    verify = registry.get("customers.verify")
    assert verify is not None
    text = openai_tool(verify, frozenset(a.name for a in registry.all()))["function"]["description"]
    assert "X-Call-Id" not in text and "header" not in text
    assert text.startswith("Verify the caller") and "this call only." in text


async def test_null_fields_mean_not_given_so_both_forms_are_one_request(make_client, sqlite_url):
    client = await make_client(sqlite_url, registry=make_registry())
    key = await new_key(client)
    first = await client.post("/v1/actions/test.echo", json={"text": "hi"},
                              headers=auth(key, **{"Idempotency-Key": "k-null"}))
    second = await client.post("/v1/actions/test.echo", json={"text": "hi", "amount": None},
                               headers=auth(key, **{"Idempotency-Key": "k-null"}))
    assert first.status == second.status == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    missing = await client.post("/v1/actions/test.echo", json={"text": None},
                                headers=auth(key, **{"Idempotency-Key": "k-null-2"}))
    body = await missing.json()
    assert missing.status == 422 and body["error"]["details"]["errors"][0]["field"] == "text"
