"""Outgoing mail (sign-up verification) over SMTP, with the standard library's `smtplib`.

`send` blocks: call it from a worker thread, e.g. as a Starlette background task, so the
event loop never waits for a mail server and a sign-up answers in the same time whether
a mail went out or not.
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from services.authorization_server.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, mail: Mail) -> None:
        """Deliver one mail; failures are logged, never raised (nobody is waiting)."""
        settings = self._settings
        if settings.smtp_host is None:
            if settings.is_development:  # the demo: the link is in the log, to click there
                logger.warning("no SMTP server set; mail to %s:\n%s", mail.to, mail.body)
            else:
                logger.error("no SMTP server set (AS_SMTP_HOST); mail to %s not sent", mail.to)
            return
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException):
            logger.exception("sending mail to %s failed", mail.to)
