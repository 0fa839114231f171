"""User password hashing with argon2id: the one module that imports passlib."""

from passlib.exc import PasswordValueError
from passlib.hash import argon2


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = argon2.using(  # type: ignore[no-untyped-call]
            type="ID", time_cost=time_cost, memory_cost=memory_kib
        )
        # Checked against when the user does not exist, so both paths cost the same.
        self._dummy_hash: str = self._hasher.hash("dummy password for timing")

    def hash(self, password: str) -> str:
        digest: str = self._hasher.hash(password)
        return digest

    def verify(self, password: str, password_hash: str | None) -> bool:
        try:
            ok: bool = self._hasher.verify(password, password_hash or self._dummy_hash)
        except PasswordValueError:  # over passlib's 4 KiB cap: no stored password is that long
            return False
        return ok and password_hash is not None
