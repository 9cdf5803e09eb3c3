"""The action catalogue, LLM tool definitions and the OpenAPI 3.1 document, all generated from the registry."""

from __future__ import annotations

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


def catalogue_entry(action: Action) -> dict[str, Any]:
    return {
        "name": action.name,
        "description": action.description,
        "scopes": sorted(action.scopes),
        "writes": action.writes,
        "params": _schema(action.Params),
        "result": _schema(action.Result, mode="serialization"),
    }


def openai_tool(action: Action) -> dict[str, Any]:
    params = _schema(action.Params)
    params.pop("title", None)
    return {
        "type": "function",
        "function": {
            "name": action.tool_name(),
            "description": action.description,
            "parameters": params,
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
        schemas[params_name] = _schema(action.Params, schemas)
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
