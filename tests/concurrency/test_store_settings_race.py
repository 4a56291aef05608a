"""A new shop's settings row, made on first use by two workers at once (PostgreSQL: SQLite runs one writer).

On a new shop the first inbound message and the worker's first sweep both find no settings row and both
make one. The loser must take the winner's row: in webhook processing a failed insert would roll the
message back and mark its event processed, losing a message Meta was told we had.
"""

import json
import threading
import time

import pytest
from sqlalchemy import insert, select, text

from checkout.extensions import db
from checkout.models import Contact, Message, StoreSettings, WebhookEvent
from checkout.whatsapp import webhooks
from tests.conftest import ON_POSTGRES
from tests.messaging import payloads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="SQLite runs one writer at a time: the race needs PostgreSQL"),
]


def _wait_until_someone_waits_to_insert_the_settings(engine, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO store_settings%'"
                )
            ).scalar()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("processing never waited for the other transaction's settings row")


def test_a_first_message_is_kept_when_the_sweep_creates_the_shop_settings_at_the_same_moment(app):
    with app.app_context():
        first_words = "hi, is the kurta in stock?"
        body = payloads.text(first_words, wa_id="919876543210")
        event_id = webhooks.store(json.dumps(body).encode())
        db.session.commit()
        wamid = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        assert db.session.get(StoreSettings, 1) is None  # a new shop: nobody has asked for the settings yet
        db.session.rollback()
        # The worker's sweep, in another thread of the same worker, is making the settings row right now.
        sweep = db.engine.connect()
        sweep_transaction = sweep.begin()
        sweep.execute(insert(StoreSettings).values(id=1, name="Chai Corner"))

        def process():
            with app.app_context():
                webhooks.process_event(event_id)
                db.session.remove()

        processing = threading.Thread(target=process)
        processing.start()
        try:
            _wait_until_someone_waits_to_insert_the_settings(db.engine)
        finally:
            sweep_transaction.commit()
            sweep.close()
            processing.join(timeout=10)

        stored = db.session.get(WebhookEvent, event_id)
        assert (stored.processed_at is not None, stored.error) == (True, "")
        assert db.session.scalar(select(Message.body_text).where(Message.wamid == wamid)) == first_words
        assert db.session.scalar(select(Contact.phone)) == "+919876543210"
        assert db.session.get(StoreSettings, 1).name == "Chai Corner"  # the winner's row, not a second one
