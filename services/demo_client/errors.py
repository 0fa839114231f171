"""`FlowError`, what the user is told when a step fails, and the one place that turns the
authorization server's refusals and silences into it."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from services.demo_client.explanations import refusals
from services.demo_client.explanations.refusals import Refusal
from services.demo_client.inspector import Recorder
from services.demo_client.oauth import AuthorizationServerUnreachableError, TokenRequestError


class FlowError(Exception):
    """Something the user should be told plainly, with a way back; rendered as an error page."""

    def __init__(
        self, title: str, message: str, *, back: str = "/", status: int = 400, detail: str = ""
    ) -> None:
        super().__init__(title)
        self.title = title
        self.message = message
        self.back = back
        self.status = status
        self.detail = detail

    @classmethod
    def of(cls, refusal: Refusal) -> "FlowError":
        return cls(refusal.title, refusal.message, back=refusal.back, status=refusal.status)


def refuse(rec: Recorder, refusal: Refusal) -> FlowError:
    """Record the refused step (if it has one) and return the error to raise."""
    if refusal.step:
        rec.note(refusal.step, refusal.detail, ok=False)
    return FlowError.of(refusal)


def unreachable(url: str, reason: str) -> FlowError:
    """The authorization server did not answer the request to `url` (the URL that failed)."""
    return FlowError.of(refusals.unreachable(url, reason))


@contextmanager
def back_channel(
    rec: Recorder,
    *,
    refused: Callable[[str, str], Refusal] | None = None,
    tutorial: str = "",
) -> Iterator[None]:
    """Around a request to the authorization server: an unreachable server becomes a plain
    502 page; an RFC 6749 §5.2 refusal is recorded with its exchange and becomes
    `refused(error, error_description)` (or, without `refused`, passes through)."""
    try:
        yield
    except TokenRequestError as exc:
        if refused is None:
            raise
        refusal = refused(exc.error, exc.description)
        rec.exchange(refusal.step, exc.exchange, text="", tutorial=tutorial)
        raise FlowError.of(refusal) from None
    except AuthorizationServerUnreachableError as exc:
        raise unreachable(exc.url, exc.reason) from None
