"""schemathesis over the three live services, one test each (see `api_contract`): every
operation of each OpenAPI document, with every check but `positive_data_acceptance`.

The authorization server gets a confidential client's Basic credentials (token, revoke,
introspect, feed) and a client-credentials token for its app-management API
(`/v1/apps/self`); the resource server a `read write` token of the demo user; Dropletbook
is met as a browser without a session."""

from typing import Any

import pytest
import schemathesis
from schemathesis import Case

from services.authorization_server.demo import (
    FEED_CLIENT_ID,
    SERVICE_CLIENT_ID,
    TRUSTED_CLIENT_ID,
)
from tests.e2e.api_contract import DEMO, HYPOTHESIS, Credentials, check, demo_token, load_schema
from tests.e2e.walk import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4 (`from_fixture`) renames the test by `node._nodeid`, which pytest 9
    no longer has; give it the id to start from."""
    node: Any = request.node
    node._nodeid = node.nodeid


@pytest.fixture(scope="module")
def authorization_server_schema(stack: Stack) -> Any:
    token = demo_token(
        stack,
        client_id=SERVICE_CLIENT_ID,
        secret=DEMO.service_client_secret.get_secret_value(),
        form={
            "grant_type": "client_credentials",
            "scope": "read write",
            "resource": f"{stack.auth}/v1/apps",
        },
    )
    basic = (FEED_CLIENT_ID, DEMO.feed_client_secret.get_secret_value())
    return load_schema(stack.auth, Credentials(bearer=token, basic=basic))


@pytest.fixture(scope="module")
def resource_server_schema(stack: Stack) -> Any:
    token = demo_token(
        stack,
        client_id=TRUSTED_CLIENT_ID,
        secret=DEMO.trusted_client_secret.get_secret_value(),
        form={
            "grant_type": "password",
            "username": stack.email,
            "password": stack.password,
            "scope": "read write",
        },
    )
    return load_schema(stack.api, Credentials(bearer=token))


@pytest.fixture(scope="module")
def demo_client_schema(stack: Stack) -> Any:
    return load_schema(stack.client)


authorization_server = schemathesis.pytest.from_fixture("authorization_server_schema")
resource_server = schemathesis.pytest.from_fixture("resource_server_schema")
demo_client = schemathesis.pytest.from_fixture("demo_client_schema")


@authorization_server.parametrize()
@HYPOTHESIS
def test_authorization_server_answers_as_documented(case: Case) -> None:
    check(case)


@resource_server.parametrize()
@HYPOTHESIS
def test_resource_server_answers_as_documented(case: Case) -> None:
    check(case)


@demo_client.parametrize()
@HYPOTHESIS
def test_demo_client_answers_as_documented(case: Case) -> None:
    check(case)
