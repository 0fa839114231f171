"""The API in-process: accounts, droplets, input validation and isolation between accounts."""

import json
from pathlib import Path
from typing import Any

import pytest

from shared.jwt import SigningKey
from tests.resource_server.conftest import InProcessApi, bearer, make_token

README = Path(__file__).parents[2] / "services" / "resource_server" / "README.md"
DROPLET = {"name": "web-1", "region": "nyc1", "size": "s-1vcpu-1gb", "image": "debian-12-x64"}


def _user(key: SigningKey, sub: str, scope: str = "read write", **claims: Any) -> dict[str, str]:
    return bearer(make_token(key, sub=sub, scope=scope, **claims))


def test_healthz_needs_no_token(api: InProcessApi) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert 0 <= body["revocation_list_age"] < 60  # polled at start-up


def test_user_account_is_created_on_first_use(api: InProcessApi, signing_key: SigningKey) -> None:
    headers = _user(signing_key, "user-uuid-1", scope="read", email="alice@example.com")
    response = api.get("/v2/account", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "account": {
            "uuid": "user-uuid-1",
            "email": "alice@example.com",
            "droplet_limit": 25,
            "status": "active",
            "kind": "user",
            "client_id": None,
        }
    }
    again = api.get("/v2/account", headers=_user(signing_key, "user-uuid-1", scope="read"))
    assert again.json() == response.json()


def test_client_credentials_token_gets_the_apps_service_account(
    api: InProcessApi, signing_key: SigningKey
) -> None:
    headers = bearer(make_token(signing_key, sub="app-7", client_id="app-7", scope="read"))
    account = api.get("/v2/account", headers=headers).json()["account"]
    assert account["kind"] == "service"
    assert account["client_id"] == "app-7"
    assert account["email"] is None
    assert account["uuid"] != "app-7"


def test_droplet_lifecycle(api: InProcessApi, signing_key: SigningKey) -> None:
    headers = _user(signing_key, "user-a")
    created = api.post("/v2/droplets", json=DROPLET, headers=headers)
    assert created.status_code == 201, created.text
    droplet = created.json()["droplet"]
    assert {k: droplet[k] for k in DROPLET} == DROPLET
    assert droplet["status"] == "active"
    url = f"/v2/droplets/{droplet['id']}"
    assert api.get(url, headers=headers).json() == {"droplet": droplet}
    listed = api.get("/v2/droplets", headers=headers).json()
    assert listed["droplets"] == [droplet]
    assert listed["meta"] == {"total": 1}
    deleted = api.delete(url, headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(url, headers=headers).status_code == 404
    assert api.delete(url, headers=headers).status_code == 404


def test_droplet_ids_are_never_reused(api: InProcessApi, signing_key: SigningKey) -> None:
    headers = _user(signing_key, "reuser")
    first = api.post("/v2/droplets", json=DROPLET, headers=headers).json()["droplet"]["id"]
    newest = api.post("/v2/droplets", json=DROPLET, headers=headers).json()["droplet"]["id"]
    assert api.delete(f"/v2/droplets/{newest}", headers=headers).status_code == 204
    again = api.post("/v2/droplets", json=DROPLET, headers=headers).json()["droplet"]["id"]
    assert first < newest < again


def test_another_accounts_droplet_is_not_found(api: InProcessApi, signing_key: SigningKey) -> None:
    owner, other = _user(signing_key, "owner"), _user(signing_key, "intruder")
    droplet_id = api.post("/v2/droplets", json=DROPLET, headers=owner).json()["droplet"]["id"]
    url = f"/v2/droplets/{droplet_id}"
    for response in (api.get(url, headers=other), api.delete(url, headers=other)):
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "error_description": "no such droplet"}
    assert api.get("/v2/droplets", headers=other).json()["droplets"] == []
    assert api.get(url, headers=owner).status_code == 200  # the delete attempt changed nothing


def test_pagination(api: InProcessApi, signing_key: SigningKey) -> None:
    headers = _user(signing_key, "pager")
    ids = [
        api.post("/v2/droplets", json={**DROPLET, "name": f"n{i}"}, headers=headers).json()[
            "droplet"
        ]["id"]
        for i in range(5)
    ]
    first = api.get("/v2/droplets?per_page=2", headers=headers).json()
    assert [d["id"] for d in first["droplets"]] == ids[:2]
    assert first["meta"] == {"total": 5}
    pages = first["links"]["pages"]
    assert pages["next"] == "http://rs.test/v2/droplets?page=2&per_page=2"
    assert pages["last"] == "http://rs.test/v2/droplets?page=3&per_page=2"
    assert pages["prev"] is None
    last = api.get("/v2/droplets?page=3&per_page=2", headers=headers).json()
    assert [d["id"] for d in last["droplets"]] == ids[4:]
    assert last["links"]["pages"]["next"] is None
    beyond = api.get("/v2/droplets?page=9&per_page=2", headers=headers).json()
    assert beyond["droplets"] == []


def test_droplet_limit(api: InProcessApi, signing_key: SigningKey) -> None:
    headers = _user(signing_key, "busy")
    for i in range(25):
        response = api.post("/v2/droplets", json={**DROPLET, "name": f"d{i}"}, headers=headers)
        assert response.status_code == 201
    refused = api.post("/v2/droplets", json=DROPLET, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"] == "droplet_limit_exceeded"


NAME_RULE = (
    "field name must be 1 to 63 letters, digits, hyphens or dots, "
    "starting and ending with a letter or digit"
)


@pytest.mark.parametrize(
    ("body", "description"),
    [
        pytest.param({**DROPLET, "name": ""}, NAME_RULE, id="empty-name"),
        pytest.param({**DROPLET, "name": "-web"}, NAME_RULE, id="name-leading-hyphen"),
        pytest.param({**DROPLET, "name": "web_1"}, NAME_RULE, id="name-underscore"),
        pytest.param({**DROPLET, "name": "a" * 64}, NAME_RULE, id="name-too-long"),
        pytest.param({**DROPLET, "name": "wéb"}, NAME_RULE, id="name-non-ascii"),
        pytest.param({**DROPLET, "name": "web\n"}, NAME_RULE, id="name-trailing-newline"),
        pytest.param(
            {**DROPLET, "region": "mars1"},
            "field region must be one of: nyc1, nyc3, sfo3, ams3, fra1, lon1, sgp1, blr1",
            id="unknown-region",
        ),
        pytest.param(
            {**DROPLET, "size": "huge"},
            "field size must be one of: s-1vcpu-512mb, s-1vcpu-1gb, s-1vcpu-2gb, s-2vcpu-2gb, "
            "s-2vcpu-4gb, s-4vcpu-8gb",
            id="unknown-size",
        ),
        pytest.param(
            {**DROPLET, "image": "windows"},
            "field image must be one of: ubuntu-24-04-x64, ubuntu-22-04-x64, debian-12-x64, "
            "fedora-40-x64, rockylinux-9-x64",
            id="unknown-image",
        ),
        pytest.param({**DROPLET, "extra": 1}, "field extra is not allowed", id="extra-field"),
        pytest.param(
            {**DROPLET, 'ex"tr\\a\u00e9': 1},
            "field ex?tr?a? is not allowed",
            id="extra-field-unsafe-name",
        ),
        pytest.param(
            {k: v for k, v in DROPLET.items() if k != "image"},
            "field image is required",
            id="missing-image",
        ),
        pytest.param(
            {"name": "web-1"},
            "field region is required (and 2 more problems)",
            id="three-missing",
        ),
        pytest.param({**DROPLET, "name": 5}, "field name must be a valid string", id="not-string"),
        pytest.param([DROPLET], "request body must be a JSON object", id="not-object"),
        pytest.param(None, "request body is required", id="null"),
    ],
)
def test_invalid_droplets_are_refused(
    api: InProcessApi, signing_key: SigningKey, body: object, description: str
) -> None:
    response = api.post("/v2/droplets", json=body, headers=_user(signing_key, "validator"))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


@pytest.mark.parametrize(
    ("content", "description"),
    [
        pytest.param(b"{not json", "request body is not valid JSON", id="not-json"),
        pytest.param(b"", "request body is required", id="empty"),
    ],
)
def test_non_json_body_is_invalid_request(
    api: InProcessApi, signing_key: SigningKey, content: bytes, description: str
) -> None:
    headers = {**_user(signing_key, "raw"), "Content-Type": "application/json"}
    response = api.post("/v2/droplets", content=content, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        pytest.param({}, b"{not json", id="malformed-json"),
        pytest.param({}, b"[]", id="not-an-object"),
        pytest.param({"Content-Type": "text/plain"}, b"hello", id="not-json"),
        pytest.param({"Authorization": "Basic eDp5"}, b"{not json", id="not-bearer"),
    ],
)
def test_the_token_is_checked_before_the_body(
    api: InProcessApi, headers: dict[str, str], content: bytes
) -> None:
    """No valid token: 401 whatever the body, which is never read or judged."""
    headers = {"Content-Type": "application/json", **headers}
    response = api.post("/v2/droplets", content=content, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer realm="dropletbook"'


def test_read_only_token_is_refused_before_the_body(
    api: InProcessApi, signing_key: SigningKey
) -> None:
    headers = {**_user(signing_key, "reader", scope="read"), "Content-Type": "application/json"}
    response = api.post("/v2/droplets", content=b"{not json", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_oversize_body_is_413(api: InProcessApi, signing_key: SigningKey) -> None:
    """RS_MAX_BODY_BYTES (16 KiB by default), declared or streamed."""
    headers = {**_user(signing_key, "big"), "Content-Type": "application/json"}
    padded = b'{"name": "web-1", "pad": "' + b"x" * 17_000 + b'"}'

    async def streamed() -> Any:
        for start in range(0, len(padded), 1000):
            yield padded[start : start + 1000]

    for content in (padded, streamed()):
        response = api.post("/v2/droplets", content=content, headers=headers)
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "invalid_request"
    assert api.get("/v2/droplets", headers=headers).json()["meta"] == {"total": 0}


def test_longest_valid_name_is_accepted(api: InProcessApi, signing_key: SigningKey) -> None:
    body = {**DROPLET, "name": "a" + "b.c-" * 15 + "d"}
    assert len(body["name"]) == 62
    response = api.post("/v2/droplets", json=body, headers=_user(signing_key, "long"))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("query", "description"),
    [
        ("page=0", "query parameter page must be greater than or equal to 1"),
        ("page=-1", "query parameter page must be greater than or equal to 1"),
        ("page=abc", "query parameter page must be a valid integer"),
        ("per_page=0", "query parameter per_page must be greater than or equal to 1"),
        ("per_page=201", "query parameter per_page must be less than or equal to 200"),
        ("page=1000001", "query parameter page must be less than or equal to 1000000"),
    ],
)
def test_page_bounds(
    api: InProcessApi, signing_key: SigningKey, query: str, description: str
) -> None:
    response = api.get(f"/v2/droplets?{query}", headers=_user(signing_key, "bounds"))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


@pytest.mark.parametrize(
    ("droplet_id", "description"),
    [
        ("0", "path parameter droplet_id must be greater than or equal to 1"),
        ("-1", "path parameter droplet_id must be greater than or equal to 1"),
        ("abc", "path parameter droplet_id must be a valid integer"),
        (str(2**63), f"path parameter droplet_id must be less than or equal to {2**63 - 1}"),
        ("1e3", "path parameter droplet_id must be a valid integer"),
    ],
)
def test_bad_droplet_ids(
    api: InProcessApi, signing_key: SigningKey, droplet_id: str, description: str
) -> None:
    response = api.get(f"/v2/droplets/{droplet_id}", headers=_user(signing_key, "ids"))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": description}


def test_readme_shows_the_real_not_found_body(api: InProcessApi, signing_key: SigningKey) -> None:
    response = api.get("/v2/droplets/99", headers=_user(signing_key, "readme"))
    assert response.status_code == 404
    body = json.dumps(response.json())
    assert f"body `{body}`" in README.read_text(encoding="utf-8")


def test_largest_droplet_id_is_just_not_found(api: InProcessApi, signing_key: SigningKey) -> None:
    response = api.get(f"/v2/droplets/{2**63 - 1}", headers=_user(signing_key, "ids"))
    assert response.status_code == 404
