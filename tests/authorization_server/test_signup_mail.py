"""Sign-up answers alike for known and unknown emails and finishes by a mailed link (issue 8,
item 10), tested against a real SMTP server (aiosmtpd on a loopback port)."""

import logging
import re
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.factories import PASSWORD, make_user, test_settings
from tests.harness.authorization_server import AuthorizationServer, start_in_process
from tests.harness.browser import Browser
from tests.harness.servers import free_port

NEW_PASSWORD = "a brand new password"


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def server(database_url: str, inbox: tuple[Inbox, int]) -> Iterator[AuthorizationServer]:
    settings = test_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_starttls=False,
        smtp_from="Droplet Cloud <accounts@droplet.example>",
    )
    server = start_in_process(settings)
    yield server
    server.close()


def _signup(visitor: Browser, email: str, password: str = NEW_PASSWORD) -> Any:
    return visitor.submit("/signup", "/signup", {"email": email, "password": password, "name": "N"})


def _link(message: EmailMessage) -> str:
    body = message.get_content()
    found = re.search(r"http://\S+/signup/verify\?token=\S+", body)
    assert found, body
    return found.group(0)


def test_the_mailed_link_creates_the_account(
    server: AuthorizationServer, inbox: tuple[Inbox, int]
) -> None:
    visitor = server.browser()
    answer = _signup(visitor, "New.Person@Example.com")
    assert (answer.status_code, answer.headers["location"]) == (303, "/signup/sent")
    assert "Check your email to finish" in visitor.get("/signup/sent").text
    [mail] = inbox[0].to("new.person@example.com")
    assert mail["Subject"] == "Confirm your Droplet Cloud account"
    assert mail["From"] == "Droplet Cloud <accounts@droplet.example>"

    # Not an account yet: the right password gets a clear message, and no session.
    refused = visitor.login("new.person@example.com", NEW_PASSWORD)
    assert refused.status_code == 400
    assert "Confirm your email address first" in refused.text

    link = _link(mail)
    page = visitor.get(link.removeprefix(server.settings.issuer))
    assert page.status_code == 200 and "new.person@example.com" in page.text
    confirmed = visitor.submit(link.removeprefix(server.settings.issuer), "/signup/verify", {})
    assert confirmed.status_code == 200 and "is ready" in confirmed.text
    assert visitor.login("new.person@example.com", NEW_PASSWORD).status_code == 303

    again = server.browser().get(link.removeprefix(server.settings.issuer))
    assert again.status_code == 400 and "invalid or has expired" in again.text


def test_sign_up_answers_alike_for_a_known_email(
    server: AuthorizationServer, inbox: tuple[Inbox, int]
) -> None:
    user = make_user(server.context, email="owner@example.com")
    unknown = _signup(server.browser(), "stranger@example.com")
    known = _signup(server.browser(), "Owner@example.com")
    assert (known.status_code, known.headers["location"], known.text) == (
        unknown.status_code,
        unknown.headers["location"],
        unknown.text,
    )
    [mail] = inbox[0].to(user.email)
    assert mail["Subject"] == "Your Droplet Cloud account"
    assert "You already have an account" in mail.get_content()
    assert "/signup/verify" not in mail.get_content()
    # The owner's account is untouched: the old password works, the attempted one does not.
    assert server.browser().login(user.email, NEW_PASSWORD).status_code == 400
    assert server.browser().login(user.email, PASSWORD).status_code == 303


def test_an_unknown_or_forged_link_is_refused(server: AuthorizationServer) -> None:
    visitor = server.browser()
    for url in ("/signup/verify?token=forged", "/signup/verify"):
        page = visitor.get(url)
        assert page.status_code == 400 and "invalid or has expired" in page.text
    refused = visitor.submit("/signup", "/signup/verify", {"token": "forged"})
    assert refused.status_code == 400


def test_without_smtp_the_development_log_has_the_link(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_in_process(test_settings(database_url))
    try:
        with caplog.at_level(logging.WARNING, logger="services.authorization_server.mail"):
            assert _signup(server.browser(), "dev@example.com").status_code == 303
    finally:
        server.close()
    assert re.search(r"/signup/verify\?token=\S+", caplog.text), caplog.text
