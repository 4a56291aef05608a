"""Two staff members answer a paid customer at the same instant on PostgreSQL: the session starts once."""

import threading

import pytest
from sqlalchemy import func, select

from checkout.database import transaction
from checkout.extensions import db
from checkout.models import OrderEvent, StaffUser
from checkout.service_sessions import claim_for_reply
from tests.admin_helpers import make_staff
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_order, make_store
from tests.sessions.helpers import make_service, pay_in_full, session_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]

STAFF = 8


def test_first_replies_racing_start_the_session_once_signed_by_one_of_them(app):
    with app.app_context():
        make_store()
        law = make_service()
        order = make_order([(law.variants[0], 1)], details=customer(fulfilment="pickup", address=""))
        reference, phone = order.reference, order.customer_phone
        pay_in_full(reference)
        staff_ids = [
            make_staff("manager", email=f"m{n}@sunrise.example.com", name=f"Manager {n}").id for n in range(STAFF)
        ]
        db.session.remove()

    barrier, crashes = threading.Barrier(STAFF), []

    def reply(staff_id):
        with app.app_context():
            staff = db.session.get(StaffUser, staff_id)
            barrier.wait()
            try:
                with transaction():
                    claim_for_reply(phone, staff)
            except Exception as error:  # noqa: BLE001 (every error is a failure of the test, reported below)
                crashes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reply, args=(staff_id,)) for staff_id in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashes == []
    with app.app_context():
        session = session_of(reference)
        assert session.started_at is not None and session.staff_name.startswith("Manager ")
        started = select(func.count(OrderEvent.id)).where(
            OrderEvent.order_id == session.order_id, OrderEvent.kind == "session", OrderEvent.note.like("%started%")
        )
        assert db.session.scalar(started) == 1
