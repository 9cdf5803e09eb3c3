from __future__ import annotations

from gateway.actions.base import Action, ActionOutput, Params, Result
from tests.gateway.conftest import new_key
from tests.gateway.helpers import auth, make_registry


async def test_catalogue_lists_only_the_actions_the_key_may_call(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    reader = await new_key(client, scopes=("payments:read",))
    writer = await new_key(client, scopes=("refunds:write",))
    r = await (await client.get("/v1/actions", headers=auth(reader))).json()
    w = await (await client.get("/v1/actions", headers=auth(writer))).json()
    assert [a["name"] for a in r["actions"]] == ["gateway.ping"]
    assert [a["name"] for a in w["actions"]] == ["gateway.ping", "test.echo"]
    echo = w["actions"][1]
    assert echo["writes"] is True and echo["scopes"] == ["refunds:write"]
    assert echo["params"]["properties"]["text"]["type"] == "string"
    assert "text" in echo["params"]["required"]
    assert set(echo["result"]["properties"]) == {"text", "runs", "provider_key"}
    assert (await client.get("/v1/actions")).status == 401


async def test_openai_format_gives_tool_definitions(make_client, sqlite_url):
    client = await make_client(sqlite_url)
    key = await new_key(client)
    body = await (await client.get("/v1/actions?format=openai", headers=auth(key))).json()
    names = [t["function"]["name"] for t in body["tools"]]
    assert names == ["gateway_ping", "test_echo"]
    assert all(t["type"] == "function" and t["function"]["parameters"]["type"] == "object" for t in body["tools"])
    # The tool name is also accepted as the action name, so an agent can call what it was given.
    resp = await client.post("/v1/actions/gateway_ping", json={}, headers=auth(key))
    assert resp.status == 200 and (await resp.json())["action"] == "gateway.ping"


async def test_a_newly_registered_action_appears_everywhere_without_other_edits(make_client, sqlite_url):
    class WeatherParams(Params):
        city: str

    class WeatherResult(Result):
        forecast: str

    reg = make_registry()

    @reg.register
    class Weather(Action):
        name = "weather.today"
        description = "Say the weather."
        scopes = frozenset({"payments:read"})
        Params = WeatherParams
        Result = WeatherResult

        async def run(self, ctx, params):
            return ActionOutput(result=WeatherResult(forecast=f"sunny in {params.city}"), say="Sunny.")

    client = await make_client(sqlite_url, registry=reg)
    key = await new_key(client, scopes=("payments:read",))
    cat = await (await client.get("/v1/actions", headers=auth(key))).json()
    assert "weather.today" in [a["name"] for a in cat["actions"]]
    doc = await (await client.get("/openapi.json")).json()
    assert "/v1/actions/weather.today" in doc["paths"]
    assert doc["components"]["schemas"]["weather_today_params"]["properties"]["city"]["type"] == "string"
    run = await (await client.post("/v1/actions/weather.today", json={"city": "Leeds"}, headers=auth(key))).json()
    ssml = run.pop("say_ssml")
    assert run == {"ok": True, "action": "weather.today", "result": {"forecast": "sunny in Leeds"}, "say": "Sunny."}
    assert ssml.endswith('xml:lang="en-GB">Sunny.</speak>')


async def test_openapi_document_is_valid_openapi_31(make_client, sqlite_url):
    from jsonschema import Draft202012Validator

    client = await make_client(sqlite_url)
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert "$defs" not in schema, name
    op = doc["paths"]["/v1/actions/test.echo"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("test_echo_params")
    assert {"200", "401", "422", "503"} <= set(op["responses"])
