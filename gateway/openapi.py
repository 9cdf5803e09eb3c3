"""The action catalogue, LLM tool definitions and the OpenAPI 3.1 document, all generated from the registry."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from gateway import __version__
from gateway.actions.base import Action, ActionRegistry

_REF = "#/components/schemas/{model}"
#: The header formats :mod:`gateway.dispatch` enforces (anything else is a 400).
IDEM_KEY_PATTERN = "^[\\x21-\\x7e]{1,255}$"
CALL_ID_PATTERN = "^[A-Za-z0-9._:@-]{1,128}$"


def _schema(
    model: type[BaseModel], defs: dict[str, Any] | None = None, mode: JsonSchemaMode = "validation"
) -> dict[str, Any]:
    """A model's JSON Schema; nested definitions go to ``defs`` (OpenAPI) or stay inline (catalogue).
    ``mode="serialization"`` for what the gateway sends (results): the shape of ``model_dump``."""
    if defs is None:
        return model.model_json_schema(mode=mode)
    schema = model.model_json_schema(ref_template=_REF, mode=mode)
    defs.update(schema.pop("$defs", {}))
    return schema


def _one_of_groups(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of which exactly one must be given (``exactly_one_of`` on the params model)."""
    return tuple(getattr(model, "exactly_one_of", ()))


def _with_one_of(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """JSON Schema's form of "exactly one of": one branch per field, each requiring that field non-null (the
    others may be absent or null), so exactly one branch matches exactly when one field is given."""
    group = _one_of_groups(model)
    if group:
        schema["oneOf"] = [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in group
        ]
    return schema


def catalogue_entry(action: Action) -> dict[str, Any]:
    params = _with_one_of(_schema(action.Params), action.Params)
    example = TOOL_EXAMPLES.get(action.name)
    if example is not None:
        params["examples"] = [example]
    return {
        "name": action.name,
        "description": action.description,
        "scopes": sorted(action.scopes),
        "writes": action.writes,
        "params": params,
        "result": _schema(action.Result, mode="serialization"),
    }


# --- LLM tool definitions ----------------------------------------------------------------------------------
#
# What the model reads is held to OpenAI's strict function calling ("Structured Outputs", supported schemas):
# the root is an object; every object has ``additionalProperties: false`` and lists *every* property in
# ``required``; an optional field is a type array with ``"null"`` (no ``anyOf`` with titles and defaults);
# ``oneOf``, ``allOf``, ``not``, ``if/then/else`` and the ``dependent*`` keywords are not accepted, so
# "exactly one of" is said in the descriptions (give one, set the others to null), the gateway enforcing it;
# string length keywords are left out (not accepted by every model; the gateway validates them). A null
# field means "not given" (gateway/dispatch.py), so a strict model's nulls and a hand-written call's omitted
# fields are the same request.

#: Keywords kept per node of a strict tool schema; everything else (title, default, minLength...) is dropped.
_STRICT_KEYWORDS = frozenset({
    "type", "description", "enum", "const", "properties", "required", "additionalProperties", "items",
    "anyOf", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minItems", "maxItems",
})

#: One example call per built-in tool (arguments as a strict model sends them: unused fields null).
TOOL_EXAMPLES: dict[str, dict[str, Any]] = {
    "payments.lookup": {"email": "ada@example.com"},
    "refunds.create": {"payment_id": "pi_3PqR8sLkdIwHu7ix0abc1234", "reason": "requested_by_customer"},
    "coupons.create": {"email": "ada@example.com", "percent_off": 10},
    "subscriptions.lookup": {"phone": "+447700900123"},
    "customers.verify": {"email": "ada@example.com", "postal_code": "SW1A 1AA", "card_last4": "4242"},
    "escalations.create": {
        "reason": "complaint",
        "summary": "The caller says the delivery never arrived and wants to speak to someone.",
        "customer_id": "cus_Q8sLkdIwHu7ixA",
    },
    "capture.start": {"amount": 2500, "description": "Order 1042"},
    "capture.status": {"capture_id": "cap_3f9a1c2e4b5d6a7c8e9f0a1b"},
    "capture.cancel": {"capture_id": "cap_3f9a1c2e4b5d6a7c8e9f0a1b"},
    "payments.send_link": {"amount": 2500, "description": "Order 1042", "email": "ada@example.com"},
    "gateway.ping": {},
    "operations.get": {"operation_id": "op_0123456789abcdef0123456789abcdef"},
}

#: A clause about how the request travels (headers, HTTP): the gateway's business, not the model's.
_TRANSPORT = re.compile(r"\b(?:X-[A-Za-z-]+|Idempotency-Key|HTTP|[Hh]eaders?)\b")
_ACTION_NAME = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\b")


def _model_text(text: str, names: frozenset[str]) -> str:
    """Text as the model should read it: tool names as it calls them, no transport details."""
    kept: list[str] = []
    sentence_start = True
    for clause in re.split(r"(?<=[.;])\s+", text.strip()):
        if _TRANSPORT.search(clause):
            sentence_start = sentence_start if clause.endswith(";") else True
            continue
        if sentence_start and clause:
            clause = clause[:1].upper() + clause[1:]
        kept.append(clause)
        sentence_start = clause.endswith(".")
    joined = " ".join(kept)
    if joined.endswith(";"):
        joined = joined[:-1] + "."
    return _ACTION_NAME.sub(lambda m: m.group(0).replace(".", "_") if m.group(0) in names else m.group(0), joined)


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = defs[ref.rsplit("/", 1)[-1]]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _strict_node(node: dict[str, Any], defs: dict[str, Any], *, nullable: bool) -> dict[str, Any]:
    node = _resolve(node, defs)
    variants = node.get("anyOf")
    if isinstance(variants, list):
        real = [v for v in variants if v != {"type": "null"}]
        nullable = nullable or len(real) < len(variants)
        if len(real) == 1:
            merged = {**{k: v for k, v in node.items() if k != "anyOf"}, **_resolve(real[0], defs)}
            return _strict_node(merged, defs, nullable=nullable)
        out: dict[str, Any] = {"anyOf": [_strict_node(v, defs, nullable=False) for v in real]}
        if nullable:
            out["anyOf"].append({"type": "null"})
        if "description" in node:
            out["description"] = node["description"]
        return out
    out = {k: v for k, v in node.items() if k in _STRICT_KEYWORDS}
    if "enum" in out and "type" not in out:
        kinds = {type(v) for v in out["enum"]}
        out["type"] = "string" if kinds == {str} else "integer" if kinds == {int} else out.get("type")
    if out.get("type") == "object" or "properties" in out:
        props = out.get("properties", {})
        required = set(node.get("required", []))
        out["type"] = "object"
        out["properties"] = {
            name: _strict_node(sub, defs, nullable=name not in required) for name, sub in props.items()
        }
        out["required"] = list(props)
        out["additionalProperties"] = False
    if "items" in out:
        out["items"] = _strict_node(out["items"], defs, nullable=False)
    if nullable:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def strict_parameters(model: type[BaseModel], names: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The params model as a strict function-calling schema (see the comment above)."""
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})
    out = _strict_node(raw, defs, nullable=False)
    group = _one_of_groups(model)
    for name, prop in out["properties"].items():
        text = _model_text(str(prop.get("description", "")), names)
        if name in group:
            others = [g for g in group if g != name]
            text = (text + " " if text else "") + f"Give this or {_or_list(others)}, exactly one; null otherwise."
        elif "null" in prop.get("type", ()) or (prop.get("anyOf") and {"type": "null"} in prop["anyOf"]):
            text = (text + " " if text else "") + "Null if not given."
        prop["description"] = text
    return out


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def openai_tool(action: Action, names: frozenset[str] | None = None) -> dict[str, Any]:
    """An OpenAI-style strict function tool. ``names``: the action names the model may see (for the text)."""
    known = names if names is not None else frozenset({action.name})
    description = _model_text(action.description, known)
    group = _one_of_groups(action.Params)
    if group:
        description += f" Give exactly one of {_or_list(list(group))}."
    example = TOOL_EXAMPLES.get(action.name)
    if example is not None:
        full = {name: example.get(name) for name in action.Params.model_fields}
        description += " Example arguments: " + json.dumps(full, separators=(", ", ": ")) + "."
    return {
        "type": "function",
        "function": {
            "name": action.tool_name(),
            "description": description,
            "strict": True,
            "parameters": strict_parameters(action.Params, known),
        },
    }


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "error", "request_id"],
    "properties": {
        "ok": {"const": False},
        "request_id": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["code", "message", "say", "retryable"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "say": {"type": "string"},
                "retryable": {"type": "boolean"},
                "details": {"type": "object"},
            },
        },
    },
}


def openapi_document(registry: ActionRegistry) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    error_ref = {"$ref": "#/components/schemas/Error"}
    error_responses = {
        str(code): {"description": text, "content": {"application/json": {"schema": error_ref}}}
        for code, text in [
            (400, "Malformed request, or a write without Idempotency-Key / X-Call-Id"),
            (401, "Missing or invalid agent key"),
            (402, "Declined by the provider"),
            (403, "The key lacks a scope"),
            (404, "Not found"),
            (409, "Same Idempotency-Key still in progress"),
            (413, "Body too large"),
            (415, "Body is not JSON"),
            (422, "Invalid params, card data in the body, policy refusal, key reused"),
            (429, "Rate limited"),
            (500, "Internal error (never with a stack trace)"),
            (503, "Provider or store unavailable"),
        ]
    }
    paths: dict[str, Any] = {}
    for action in registry.all():
        params_name = f"{action.tool_name()}_params"
        result_name = f"{action.tool_name()}_result"
        schemas[params_name] = _with_one_of(_schema(action.Params, schemas), action.Params)
        schemas[result_name] = _schema(action.Result, schemas, mode="serialization")
        paths[f"/v1/actions/{action.name}"] = {
            "post": {
                "operationId": action.tool_name(),
                "summary": action.description,
                "description": f"Scopes: {', '.join(sorted(action.scopes)) or 'none'}.",
                "security": [{"agentKey": []}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": IDEM_KEY_PATTERN},
                    },
                    {
                        "name": "X-Call-Id",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": CALL_ID_PATTERN},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{params_name}"}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "Done",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["ok", "action", "result", "say"],
                                    "properties": {
                                        "ok": {"const": True},
                                        "action": {"const": action.name},
                                        "say": {"type": "string"},
                                        "result": {"$ref": f"#/components/schemas/{result_name}"},
                                    },
                                }
                            }
                        },
                    },
                    **error_responses,
                },
            }
        }
    simple = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    paths["/healthz"] = {
        "get": {"operationId": "healthz", "summary": "Liveness", "responses": {"200": simple}}
    }
    paths["/readyz"] = {
        "get": {
            "operationId": "readyz",
            "summary": "Readiness: store reachable and migrations applied",
            "responses": {"200": simple, "503": simple},
        }
    }
    paths["/v1/actions"] = {
        "get": {
            "operationId": "listActions",
            "summary": "The actions this agent key may call (format=openai for LLM tool definitions)",
            "security": [{"agentKey": []}],
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"enum": ["catalogue", "openai"]},
                }
            ],
            "responses": {
                "200": simple,
                **{code: error_responses[code] for code in ("400", "401", "429", "500", "503")},
            },
        }
    }
    paths["/openapi.json"] = {
        "get": {"operationId": "openapi", "summary": "This document", "responses": {"200": simple}}
    }
    paths["/metrics"] = {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus exposition for the scraper only: Authorization: Bearer <[metrics] token>; 404 "
            "when no token is configured or [metrics] listen serves it elsewhere (not routed by the reverse proxy)",
            "responses": {
                "200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}},
                "401": {**error_responses["401"], "description": "Missing or invalid metrics token"},
                "404": error_responses["404"],
            },
        }
    }
    tenant_param = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
    ack = {
        "description": "Verified and stored (or a duplicate, acknowledged)",
        "content": {"application/json": {"schema": {"type": "object", "required": ["ok"]}}},
    }
    paths["/v1/webhooks/stripe/{tenant}"] = {
        "post": {
            "operationId": "stripeWebhook",
            "summary": "Stripe events, verified against the tenant's webhook secrets (Stripe-Signature)",
            "parameters": [
                tenant_param,
                {"name": "Stripe-Signature", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": ack,
                **{code: error_responses[code] for code in ("400", "413", "415", "422", "500", "503")},
            },
        }
    }
    paths["/v1/callbacks/pcipal/{tenant}"] = {
        "post": {
            "operationId": "pcipalCallback",
            "summary": "PCI Pal capture results, verified (HMAC, bearer token or source address) per tenant",
            "parameters": [
                tenant_param,
                {"name": "X-PCIPal-Signature", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": ack,
                **{code: error_responses[code] for code in ("400", "401", "404", "413", "422", "500", "503")},
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "voicepay-gateway", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"agentKey": {"type": "http", "scheme": "bearer", "bearerFormat": "vpk_..."}},
        },
    }
