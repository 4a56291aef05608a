"""Staff accounts for the admin panel."""

import secrets

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

ROLES = ("owner", "manager", "fulfilment", "viewer")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('owner', 'manager', 'fulfilment', 'viewer')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session and remember-me cookie (see get_id); raising it signs the account out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: "<id>:<session version>".

        A session or cookie made before the version was raised no longer names a signed-in account."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Hashed by PASSWORD_HASH_METHOD: PBKDF2, as slow for a guesser as scrypt was, but without scrypt's
        32 MiB per check, which lifted every web worker that handled a sign-in by ~30 MB for good."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def password_needs_rehash(self) -> bool:
        """Hashed another way (scrypt before PBKDF2, or other rounds): moved over at the next sign-in."""
        return not self.password_hash.startswith(f"{current_app.config['PASSWORD_HASH_METHOD']}$")


# One hash per hashing method, of a password nobody knows: checked when the email belongs to no account.
_NOBODYS_PASSWORD_HASHES: dict[str, str] = {}


def check_password_of_nobody(password: str) -> bool:
    """Spend what checking an account's password costs, and fail: an unknown email must answer as slowly
    as a known one, or the response time tells which addresses belong to staff."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _NOBODYS_PASSWORD_HASHES:
        _NOBODYS_PASSWORD_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    check_password_hash(_NOBODYS_PASSWORD_HASHES[method], password)
    return False
