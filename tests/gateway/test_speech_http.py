"""Issue 12 point 7 over HTTP: the caller's locale (X-Caller-Locale, Accept-Language), else the tenant's, else
English, reaches every ``say`` and ``say_ssml`` of the answer, errors and validation errors included."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from gateway.actions._common import RequiredCustomerRef
from gateway.actions.base import Action, ActionOutput, Result
from gateway.app import create_app
from gateway.speech import money, say
from tests.gateway.conftest import new_key, services
from tests.gateway.helpers import auth, make_registry

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class WhoResult(Result):
    ok: bool


def _registry() -> Any:
    reg = make_registry()

    @reg.register
    class Owed(Action):
        name = "test.owed"
        description = "Say an amount owed (test only)."
        scopes = frozenset({"refunds:write"})
        Params = RequiredCustomerRef
        Result = WhoResult

        async def run(self, ctx: Any, params: Any) -> ActionOutput:
            return ActionOutput(result=WhoResult(ok=True), say=say("payment.part_refunded", amount=money(1299, "gbp")))

    return reg


async def _post(client: Any, key: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    resp = await client.post("/v1/actions/test.owed", json=body, headers={**auth(key), **headers})
    data: dict[str, Any] = await resp.json()
    return data


@pytest.mark.parametrize(
    ("headers", "expected_say", "lang"),
    [
        ({}, "12.99 British pounds of it has been refunded.", "en-GB"),
        ({"X-Caller-Locale": "es-ES"}, "Se han reembolsado 12,99 libras esterlinas.", "es-ES"),
        ({"Accept-Language": "fr-CH, de;q=0.5"}, "12,99 livres sterling ont été remboursés.", "fr-FR"),
        ({"X-Caller-Locale": "klingon", "Accept-Language": "de-AT"}, "Davon wurden 12,99 Britische Pfund erstattet.", "de-DE"),
    ],
)
async def test_the_callers_locale_reaches_say_and_say_ssml(
    make_client: Any, sqlite_url: str, headers: dict[str, str], expected_say: str, lang: str
) -> None:
    client = await make_client(sqlite_url, registry=_registry())
    key = await new_key(client)
    body = await _post(client, key, {"email": "ada@example.com"}, **headers)
    assert body["ok"] is True and body["say"] == expected_say
    root = ET.fromstring(body["say_ssml"])
    assert root.get(XML_LANG) == lang and "".join(root.itertext()) == expected_say


async def test_a_validation_error_says_what_is_missing_in_the_callers_language(make_client: Any, sqlite_url: str) -> None:
    client = await make_client(sqlite_url, registry=_registry())
    key = await new_key(client)
    en = await _post(client, key, {})
    assert en["error"]["code"] == "validation_failed"
    assert en["error"]["say"] == "I still need the customer's email or phone number."
    de = await _post(client, key, {}, **{"X-Caller-Locale": "de-DE"})
    assert de["error"]["say"] == "Ich brauche noch die E-Mail-Adresse oder Telefonnummer des Kunden."
    assert ET.fromstring(de["error"]["say_ssml"]).get(XML_LANG) == "de-DE"


async def test_without_a_caller_locale_the_tenants_applies_and_an_unknown_one_falls_back_to_it(
    aiohttp_client: Any, settings_factory: Any, sqlite_url: str
) -> None:
    ring = settings_factory.ring
    tenant = {"id": "acme", "name": "Acme", "stripe_secret_key": ring.encrypt("sk_test_acme"),
              "stripe_api_base": "http://127.0.0.1:9", "currency": "gbp", "phone_default_region": "GB",
              "locale": "fr-FR"}
    client = await aiohttp_client(create_app(settings_factory(sqlite_url, tenants=[tenant]), registry=_registry()))
    key = await new_key(client)
    acme = services(client).settings.tenant("acme")
    assert acme is not None and acme.locale == "fr-FR"
    body = await _post(client, key, {})
    assert body["error"]["say"] == "Il me faut encore l'adresse e-mail ou le numéro de téléphone du client."
    body = await _post(client, key, {"email": "ada@example.com"}, **{"Accept-Language": "pt-BR"})
    assert body["say"] == "12,99 livres sterling ont été remboursés."
    unauth = await client.post("/v1/actions/test.owed", json={}, headers={"X-Caller-Locale": "es-ES"})
    assert (await unauth.json())["error"]["say"] == "Lo siento, no puedo acceder a la información de pagos ahora mismo."
