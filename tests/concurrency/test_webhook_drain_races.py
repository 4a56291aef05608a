"""Webhook drains running at once on PostgreSQL: they share the events, and one customer's still go in order."""

import threading

import pytest
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Message, WebhookEvent
from checkout.whatsapp import webhooks
from tests.conftest import ON_POSTGRES
from tests.factories import make_store
from tests.messaging import payloads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]


def _post(app, client, body: str, wa_id: str) -> None:
    assert payloads.post_signed(client, app, payloads.text(body, wa_id=wa_id)).status_code == 200


def _event_ids(app) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.id)))
        db.session.remove()
    return ids


def _texts_by_sender(app) -> dict[str, list[str]]:
    with app.app_context():
        rows = db.session.execute(
            select(Message.wa_id, Message.body_text).where(Message.direction == "in").order_by(Message.id)
        ).all()
        db.session.remove()
    texts: dict[str, list[str]] = {}
    for wa_id, body in rows:
        texts.setdefault(wa_id, []).append(body)
    return texts


def _in_thread(app, call, results: list) -> threading.Thread:
    def run():
        with app.app_context():
            try:
                results.append(call())
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_four_drains_at_once_handle_every_event_once_and_each_customers_in_order(app):
    with app.app_context():
        make_store()
        db.session.commit()
    client = app.test_client()
    senders = [f"2547{number:08d}" for number in range(5)]
    for step in range(8):
        for wa_id in senders:
            _post(app, client, f"message {step}", wa_id)
    barrier, results = threading.Barrier(4), []

    def drain():
        barrier.wait()
        return webhooks.process_pending()

    threads = [_in_thread(app, drain, results) for _ in range(4)]
    for thread in threads:
        thread.join(timeout=120)

    assert sum(results) == 40  # each event processed by exactly one drain
    assert _texts_by_sender(app) == {wa_id: [f"message {step}" for step in range(8)] for wa_id in senders}
    with app.app_context():
        assert (
            db.session.scalars(select(WebhookEvent.processed_at).where(WebhookEvent.processed_at.is_(None))).all() == []
        )


def test_a_drain_passes_an_event_another_holds_and_handles_other_customers_meanwhile(app):
    with app.app_context():
        make_store()
        db.session.commit()
    client = app.test_client()
    _post(app, client, "held", "254700000001")
    _post(app, client, "hello", "254700000002")
    _post(app, client, "again", "254700000002")
    held_id = _event_ids(app)[0]
    with app.app_context():
        db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == held_id).with_for_update())  # another drain's
        results: list = []
        _in_thread(app, webhooks.process_pending, results).join(timeout=30)
        assert results == [2]  # it did not wait for the held event
        db.session.rollback()
    assert _texts_by_sender(app) == {"254700000002": ["hello", "again"]}


def test_a_customers_later_event_waits_for_their_earlier_one_another_drain_holds(app):
    with app.app_context():
        make_store()
        db.session.commit()
    client = app.test_client()
    _post(app, client, "hi", "254700000001")
    _post(app, client, "2 chai", "254700000001")
    first_id = _event_ids(app)[0]
    with app.app_context():
        db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == first_id).with_for_update())
        results: list = []
        drain = _in_thread(app, webhooks.process_pending, results)
        drain.join(timeout=1.0)
        assert drain.is_alive() and results == []  # "2 chai" waits for "hi"
        assert webhooks.process_event(first_id) == "processed"  # the holder handles "hi" and commits
    drain.join(timeout=30)
    assert results == [1]
    assert _texts_by_sender(app) == {"254700000001": ["hi", "2 chai"]}


def test_two_later_events_waiting_for_the_same_earlier_one_do_not_deadlock(app):
    """A row a drain waited for stays locked by it even once processed; exclusive, a later event's drain would
    hold it while waiting for an earlier drain that waits for that very row (PostgreSQL: deadlock detected)."""
    with app.app_context():
        make_store()
        db.session.commit()
    client = app.test_client()
    for text in ("hi", "2 chai", "yes"):
        _post(app, client, text, "254700000001")
    first_id, second_id, _ = _event_ids(app)
    with app.app_context():
        db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == first_id).with_for_update())
        with db.engine.connect() as other:
            other.execute(select(WebhookEvent.id).where(WebhookEvent.id == second_id).with_for_update())
            results: list = []
            third = _in_thread(app, webhooks.process_pending, results)  # takes "yes", waits for "hi" first
            third.join(timeout=1.0)
            other.rollback()
        second = _in_thread(app, webhooks.process_pending, results)  # takes "2 chai", waits for "hi" after it
        second.join(timeout=1.0)
        assert webhooks.process_event(first_id) == "processed"
    for drain in (third, second):
        drain.join(timeout=30)
    assert sorted(results) == [1, 1]
    assert _texts_by_sender(app) == {"254700000001": ["hi", "2 chai", "yes"]}
