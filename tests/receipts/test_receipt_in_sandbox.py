"""The sandbox shows the receipt as the phone would: a document to open, with its caption."""

from datetime import timedelta

from sqlalchemy import select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact
from checkout.models.messaging import Message
from checkout.orders.desk import record_payment
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store

PHONE, DIGITS = "+919876543210", "919876543210"


def test_the_sandbox_chat_shows_the_receipt_as_a_document_with_its_caption(make_app):
    app = make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET="sandbox-secret")
    with app.app_context():
        make_store(name="Test Shop")
        db.session.add(Contact(phone=PHONE, wa_id=DIGITS, last_inbound_at=utcnow() - timedelta(minutes=1)))
        order = make_order([(make_product("Cast Iron Tawa", price_minor=89900).variants[0], 1)], customer(phone=PHONE))
        owner = make_staff("owner")
        record_payment(order, method="upi", amount_minor=10_000, reference="UPI-1", staff=owner, expected_version=None)
        db.session.commit()
        reference = order.reference
        client = app.test_client()
        sign_in(client, "owner@sunrise.example.com")
        outbox.run_due()  # the sandbox "uploads" the PDF and sends it by id, as the Cloud API would
        receipt = db.session.scalar(select(Message).where(Message.purpose == "receipt"))
        opened = f"/sandbox/sent/{receipt.id}/document"

    page = client.get(f"/sandbox/chat/{DIGITS}").get_data(as_text=True)
    assert 'class="bubble-document"' in page
    assert f'href="{opened}"' in page and f"Receipt-{reference}-1.pdf" in page
    assert f"Receipt {reference}-1" in page  # the caption, in WhatsApp's bold
    response = client.get(opened)
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/sandbox/sent/{receipt.id + 1}/document").status_code == 404
