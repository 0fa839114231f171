"""Creating user accounts: the checks a sign-up form and the demo seeding share."""

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.models import User
from services.authorization_server.passwords import PasswordHasher

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class UserInputError(ValueError):
    """A sign-up value a person must correct; the message is shown to them."""


def create_user(
    session: Session, *, passwords: PasswordHasher, email: str, password: str, name: str = ""
) -> User:
    email = email.strip().lower()
    name = name.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise UserInputError("Enter a valid email address.")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise UserInputError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(name) > 100:
        raise UserInputError("The name must have at most 100 characters.")
    if repository.get_user_by_email(session=session, email=email) is not None:
        raise UserInputError("An account with this email already exists.")
    user = User(
        email=email, name=name or email.split("@")[0], password_hash=passwords.hash(password)
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise UserInputError("An account with this email already exists.") from None
    return user
