"""Store API credentials and the idempotency records that make retried requests safe."""

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class ApiKey(db.Model):
    """A secret key (server to server: create and read orders) or a public widget key (create orders
    from the shop's allowed origins, nothing else). Only a hash is stored; the key is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("kind IN ('secret', 'widget')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a key in lists
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime, nullable=True)
    revoked_at = mapped_column(UTCDateTime, nullable=True)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(db.Model):
    """The first answer to a request with an Idempotency-Key, replayed for 24 hours to repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_records_api_key_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="in_flight")  # in_flight, done
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[dict | None] = mapped_column(db.JSON, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
