"""User accounts: the input checks, accounts made by operators (CLI, demo seed), and
self-service sign-up, which holds the account back until the email is confirmed.

Sign-up answers the same for known and unknown emails: the address gets a confirmation
link, or a "you already have an account" note, so only its owner learns which.
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from services.authorization_server import repository
from services.authorization_server.mail import Mail
from services.authorization_server.models import PendingSignup, User
from services.authorization_server.passwords import PasswordHasher
from shared.crypto import hash_token, new_token

MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3 path limit, less the angle brackets
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100
VERIFY_PATH = "/signup/verify"


class UserInputError(ValueError):
    """A sign-up value a person must correct; the message is shown to them."""


def normalize_email(value: str) -> str:
    """The canonical (lower-case) address, or `UserInputError`.

    The length is checked before the syntax, and the syntax by `email-validator` (linear
    time; pydantic's `EmailStr` uses it): no input can make the check slow.
    """
    value = value.strip()
    if not value or len(value) > MAX_EMAIL_LENGTH:
        raise UserInputError("Enter a valid email address.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise UserInputError("Enter a valid email address.") from None
    return checked.normalized.lower()


def checked_account(email: str, password: str, name: str) -> tuple[str, str]:
    """The normalized email and name; every length is checked before anything else."""
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise UserInputError(f"The name must have at most {MAX_NAME_LENGTH} characters.")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise UserInputError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    email = normalize_email(email)
    return email, name or email.split("@")[0]


def create_user(
    session: Session, *, passwords: PasswordHasher, email: str, password: str, name: str = ""
) -> User:
    """An account made by an operator (CLI, demo seed): usable at once."""
    email, name = checked_account(email, password, name)
    if repository.get_user_by_email(session=session, email=email) is not None:
        raise UserInputError("An account with this email already exists.")
    user = User(email=email, name=name, password_hash=passwords.hash(password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UserInputError("An account with this email already exists.") from None
    return user


def start_signup(
    session: Session,
    *,
    email: str,
    name: str,
    password_hash: str,
    issuer: str,
    ttl: int,
    now: datetime,
) -> Mail:
    """Hold a sign-up until its email is confirmed; the mail to send either way.

    `email` and `name` are `checked_account`'s. The caller hashes the password, for known
    emails too (the same time taken), and off the event loop (argon2 is slow on purpose).
    The mail carries no text the person signing up chose: it may go to someone else."""
    if repository.get_user_by_email(session=session, email=email) is not None:
        return Mail(
            email,
            "Your Droplet Cloud account",
            "Someone, perhaps you, tried to sign up for Droplet Cloud with this address.\n"
            f"You already have an account: log in at {issuer}/login\n\n"
            "If that was not you, you can ignore this mail; nothing has changed.\n",
        )
    token = new_token()
    session.add(
        PendingSignup(
            token_hash=hash_token(token),
            email=email,
            name=name,
            password_hash=password_hash,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    session.commit()
    link = f"{issuer}{VERIFY_PATH}?{urlencode({'token': token})}"
    return Mail(
        email,
        "Confirm your Droplet Cloud account",
        f"Welcome to Droplet Cloud.\n\nConfirm your email address to finish:\n{link}\n\n"
        f"The link works for {ttl // 3600 or 1} hour(s). If you did not sign up, ignore "
        "this mail: no account is made.\n",
    )


def pending_signup(session: Session, *, token: str, now: datetime) -> PendingSignup | None:
    row = session.get(PendingSignup, hash_token(token[:200]))
    return row if row is not None and row.expires_at > now else None


def finish_signup(session: Session, *, token: str, now: datetime) -> User | None:
    """Make the account of a confirmed sign-up; None when the link is unknown or expired."""
    pending = pending_signup(session, token=token, now=now)
    if pending is None:
        return None
    email = pending.email
    user = User(email=email, name=pending.name, password_hash=pending.password_hash)
    exists = repository.get_user_by_email(session=session, email=email) is not None
    session.exec(delete(PendingSignup).where(col(PendingSignup.email) == email))
    if not exists:
        session.add(user)
    try:
        session.commit()
    except IntegrityError:  # confirmed twice at once: the other request made it
        session.rollback()
        return None
    return None if exists else user


def unconfirmed_password_hash(session: Session, *, email: str, now: datetime) -> str | None:
    """The password of the newest unconfirmed sign-up for `email`, to explain a login."""
    return session.exec(
        select(PendingSignup.password_hash)
        .where(PendingSignup.email == email, col(PendingSignup.expires_at) > now)
        .order_by(col(PendingSignup.created_at).desc())
    ).first()
