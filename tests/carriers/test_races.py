"""The same courier event posted at once by several workers, on PostgreSQL: stored once, acted on once."""

import json
import threading

import pytest
from sqlalchemy import func, select

from checkout.carriers import carriers
from checkout.carriers.events import process_carrier_event
from checkout.extensions import db
from checkout.models import CarrierEvent, Order, OrderEvent
from tests.carriers.couriers import add_courier, generic_body, order_with_the_courier
from tests.conftest import ON_POSTGRES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]


def _at_once(count, attempt):
    barrier = threading.Barrier(count)
    results = []

    def worker(index):
        barrier.wait()
        results.append(attempt(index))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def courier(app):
    with app.app_context():
        order_id = order_with_the_courier()
        name, secret = add_courier("generic", name="swift")
        db.session.remove()
    return order_id, name, secret


def shipped_moves(app, order_id) -> int:
    with app.app_context():
        query = select(func.count(OrderEvent.id)).where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == "shipped"
        )
        return db.session.scalar(query)


def test_ten_resends_of_one_event_at_once_store_it_once_and_ship_once(app, courier):
    order_id, name, secret = courier
    raw = json.dumps(generic_body("PICKED", "evt-race")).encode()

    def post(_index):
        return (
            app.test_client()
            .post(f"/webhooks/carriers/{name}", data=raw, headers={"X-Signature": carriers.sign(raw, secret)})
            .json
        )

    results = _at_once(10, post)
    assert len(results) == 10
    assert sorted(r["status"] for r in results) == ["duplicate"] * 9 + ["received"]
    with app.app_context():
        assert db.session.scalar(select(func.count(CarrierEvent.id))) == 1
        assert db.session.get(Order, order_id).status == "shipped"
    assert shipped_moves(app, order_id) == 1


def test_two_different_pick_up_scans_at_once_ship_the_order_once(app, courier):
    order_id, name, secret = courier

    def post(index):
        raw = json.dumps(generic_body("PICKED", f"evt-{index}")).encode()
        return (
            app.test_client()
            .post(f"/webhooks/carriers/{name}", data=raw, headers={"X-Signature": carriers.sign(raw, secret)})
            .json["outcome"]
        )

    assert sorted(_at_once(6, post)) == ["already"] * 5 + ["moved"]
    assert shipped_moves(app, order_id) == 1


def test_workers_processing_one_stored_event_at_once_act_once(app, courier):
    order_id, name, secret = courier
    with app.app_context():
        carrier = carriers.find_active(name)
        raw = json.dumps(generic_body("PICKED", "evt-stored")).encode()
        reading, mapped = carriers.read_body(carrier, json.loads(raw))
        event = CarrierEvent(
            carrier_id=carrier.id, dedupe_key=reading.dedupe_key(raw), body=raw.decode(), mapped_event=mapped
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id
        db.session.remove()

    def process(_index):
        with app.app_context():
            try:
                return process_carrier_event(event_id)
            finally:
                db.session.remove()

    assert _at_once(8, process) == ["moved"] * 8  # the later ones read the outcome the first one kept
    assert shipped_moves(app, order_id) == 1
