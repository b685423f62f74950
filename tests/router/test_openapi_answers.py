"""What the OpenAPI document promises about answers holds on the wire."""

from __future__ import annotations

from router.openapi_spec import spec
from tests.omni import OmniServer

PROBLEM = "application/problem+json"


async def test_a_405_names_every_method_of_the_path(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {"callback_url": "https://bot.example/cb"})
    response = await omni.client.put(f"/v1/channels/{created['id']}", json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "DELETE, GET, PATCH"


async def test_a_static_path_beside_an_id_is_not_taken_for_an_id(omni: OmniServer) -> None:
    # PATCH /v1/agents/{agent_id} exists; /v1/agents/me is a resource of its own (GET only).
    me = await omni.client.patch("/v1/agents/me", json={"name": "x"})
    assert me.status_code == 405
    assert me.headers["allow"] == "GET"
    test = await omni.client.delete("/v1/rules/test")
    assert test.status_code == 405
    assert test.headers["allow"] == "POST"


async def test_the_channel_list_is_a_page(omni: OmniServer) -> None:
    made = [(await omni.create_channel("api", f"bot{n}", {}))["id"] for n in range(3)]
    first = (await omni.client.get("/v1/channels", params={"limit": 2})).json()
    assert [c["id"] for c in first["items"]] == made[:2]
    assert first["next_cursor"]
    rest = (await omni.client.get("/v1/channels", params={"limit": 2,
                                                          "cursor": first["next_cursor"]})).json()
    assert [c["id"] for c in rest["items"]] == made[2:]
    assert rest["next_cursor"] is None


def test_every_error_answer_is_documented_as_a_problem() -> None:
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code, answer in responses.items():
                if code.isdigit() and int(code) >= 400:
                    assert PROBLEM in answer["content"], f"{method} {path} {code}"
                    assert "application/json" not in answer["content"], f"{method} {path}"
            if "{" in path:
                assert "404" in responses, f"{method} {path}: no 404"
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), f"{method} {path}"


def test_ids_a_post_or_a_list_returns_lead_to_the_operations_taking_them() -> None:
    paths = spec()["paths"]
    created = paths["/v1/channels"]["post"]["responses"]["201"]["links"]
    assert {"operationId": "get_v1_channels__channel_id__get",
            "parameters": {"channel_id": "$response.body#/id"}} in created.values()
    listed = paths["/v1/teams"]["get"]["responses"]["200"]["links"]
    assert {"operationId": "get_v1_teams__team_id__get",
            "parameters": {"team_id": "$response.body#/items/0/id"}} in listed.values()


def test_integer_bounds_are_exact() -> None:
    team = spec()["components"]["schemas"]["TeamIn"]["properties"]["sla_policy_id"]
    assert team["anyOf"][0]["maximum"] == 2**63 - 1
