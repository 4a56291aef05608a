"""The renewal ask as WhatsApp gets it (a button inside the 24-hour window, the approved template outside it), who
may run sessions, and what a service costs to "deliver"."""

from datetime import timedelta

from sqlalchemy import select

from checkout import outbox
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models import Message
from checkout.notifications import run_scheduled_work
from checkout.orders import desk
from checkout.service_sessions import RENEWAL_PURPOSE, claim_for_reply, end_expired_sessions, session_state
from checkout.staff.permissions import ROLE_PERMISSIONS, Permission
from checkout.whatsapp.limits import check_payload
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads
from tests.messaging.test_conversations import receive
from tests.sessions.helpers import make_service, pay_in_full, session_of

ASHA = "919876543210"


def expire(reference: str) -> None:
    """A session that started an hour and a half ago and ran for its hour."""
    session = session_of(reference)
    session.started_at = utcnow() - timedelta(minutes=90)
    session.ends_at = session.started_at + timedelta(minutes=session.minutes)
    session.staff_name = "Meera"
    db.session.commit()


def renewal() -> Message:
    return db.session.scalars(select(Message).where(Message.purpose == RENEWAL_PURPOSE)).one()


def test_inside_the_window_the_renewal_is_a_button_to_the_service_page(make_app):
    app = make_app(WHATSAPP_PROVIDER="sandbox", PUBLIC_BASE_URL="https://law.example")
    client = app.test_client()
    with app.app_context():
        make_store()
        law = make_service()
        reference = make_order([(law.variants[0], 1)], details=customer(fulfilment="pickup", address="")).reference
        pay_in_full(reference)
        db.session.remove()
    receive(client, app, payloads.text("Good morning", wa_id=ASHA))
    with app.app_context():
        expire(reference)
        assert end_expired_sessions() == 1 and end_expired_sessions() == 0
        message = renewal()
        action = message.payload["interactive"]["action"]
        assert message.payload["interactive"]["type"] == "cta_url"
        assert action["parameters"] == {
            "display_text": "Renew session",
            "url": "https://law.example/p/legal-consultation",
        }
        check_payload(message.payload)
        assert session_of(reference).ended_at is not None


def test_outside_the_window_the_order_update_template_carries_the_renewal_link(make_app):
    app = make_app(WHATSAPP_PROVIDER="sandbox", PUBLIC_BASE_URL="https://law.example")
    with app.app_context():
        make_store()
        law = make_service()
        reference = make_order([(law.variants[0], 1)], details=customer(fulfilment="pickup", address="")).reference
        pay_in_full(reference)
        expire(reference)  # the customer never wrote: no 24-hour window is open
        run_scheduled_work()
        outbox.run_due()
        message = renewal()
        assert message.kind == "template" and message.payload["template"]["name"] == "order_update"
        assert "renew it here: https://law.example/p/legal-consultation" in message.body_text
        assert message.status != "failed"


def test_only_owners_and_managers_run_sessions():
    allowed = {role for role, permissions in ROLE_PERMISSIONS.items() if Permission.RUN_SESSIONS in permissions}
    assert allowed == {"owner", "manager"}


def test_services_alone_pay_no_delivery_fee_but_goods_beside_them_do(app_context):
    make_store(delivery_fee_minor=5000)
    law = make_service().variants[0]
    tea = make_product("Assam Tea", price_minor=24000, stock=5).variants[0]
    alone = make_order([(law, 1)], details=customer(fulfilment="delivery"))
    assert (alone.delivery_fee_minor, alone.total_minor) == (0, 20000)
    both = make_order([(law, 1), (tea, 1)], details=customer(fulfilment="delivery"))
    assert (both.delivery_fee_minor, both.total_minor) == (5000, 49000)


def test_a_cancelled_order_s_session_no_longer_binds_replies(app_context):
    make_store()
    law = make_service()
    order = make_order([(law.variants[0], 1)], details=customer(fulfilment="pickup", address=""))
    pay_in_full(order.reference)
    assert session_state(order.customer_phone).state == "waiting"
    owner = make_staff("owner", name="Meera")
    desk.change_status(order, "cancelled", staff=owner, expected_version=None, note="Client withdrew", refund_paid=True)
    assert session_state(order.customer_phone) is None
    fulfilment = make_staff("fulfilment", name="Ravi")
    with transaction():
        assert claim_for_reply(order.customer_phone, fulfilment) is None  # answered as any customer
