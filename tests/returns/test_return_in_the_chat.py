"""A return after delivery, end to end: the customer's words or the delivered message's button in the signed
WhatsApp webhook, the reason list, photos sent in the chat, staff approving or rejecting on the order page, the
items received back into stock (with a ledger row) and the refund through Stripe, the customer told at each step.
Every message goes through the fake Graph API, which fails the test on anything Meta would refuse."""

from datetime import timedelta

from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import (
    Contact,
    Conversation,
    MediaFile,
    Order,
    OrderEvent,
    ReturnRequest,
    StockMovement,
    get_store_settings,
)
from checkout.whatsapp import media
from tests.admin_helpers import sign_in
from tests.messaging.conftest import inbound_webhook, receive_webhook
from tests.returns.conftest import ASHA, PIXEL_PNG, STRANGER, deliver_order, stock_on_hand


def says(app, digits: str, text: str) -> None:
    receive_webhook(app, inbound_webhook(digits, {"type": "text", "text": {"body": text}}))
    outbox.run_due()


def taps(app, digits: str, reply_id: str, *, listed: bool = False) -> None:
    kind = "list_reply" if listed else "button_reply"
    interactive = {"type": kind, kind: {"id": reply_id, "title": "tapped"}}
    receive_webhook(app, inbound_webhook(digits, {"type": "interactive", "interactive": interactive}))
    outbox.run_due()


def sends_picture(app, graph_api, digits: str, media_id: str, kind: str = "image") -> None:
    graph_api.host_media(media_id, PIXEL_PNG, "image/png")
    part = {"id": media_id, "mime_type": "image/png" if kind == "image" else "application/pdf", "sha256": "x"}
    if kind == "document":
        part["filename"] = "invoice.pdf"
    receive_webhook(app, inbound_webhook(digits, {"type": kind, kind: part}))
    outbox.run_due()


def last_to(graph_api, digits: str) -> dict:
    return graph_api.messages_to(digits)[-1].body


def text_of(body: dict) -> str:
    if body["type"] == "text":
        return body["text"]["body"]
    if body["type"] == "interactive":
        return body["interactive"]["body"]["text"]
    return " ".join(p["text"] for c in body["template"]["components"] if c["type"] == "body" for p in c["parameters"])


def row_ids(body: dict) -> list[str]:
    return [row["id"] for section in body["interactive"]["action"]["sections"] for row in section["rows"]]


def button_ids(body: dict) -> list[str]:
    return [button["reply"]["id"] for button in body["interactive"]["action"]["buttons"]]


def the_return(reference: str) -> ReturnRequest:
    db.session.rollback()
    return db.session.scalar(select(ReturnRequest).join(Order).where(Order.reference == reference))


def starts_a_return(app, graph_api, delivered, *, how: str = "button") -> dict:
    """The customer starts a return and picks "damaged"; the photos question, with its Done button."""
    if how == "button":
        delivered_message = last_to(graph_api, ASHA)
        assert button_ids(delivered_message) == [f"return:{delivered.reference}"]
        taps(app, ASHA, f"return:{delivered.reference}")
    else:
        says(app, ASHA, how)
    reasons = last_to(graph_api, ASHA)
    assert reasons["interactive"]["type"] == "list" and delivered.reference in text_of(reasons)
    damaged = next(row for row in row_ids(reasons) if row.endswith(":damaged"))
    taps(app, ASHA, damaged, listed=True)
    photos_question = last_to(graph_api, ASHA)
    assert "send photos" in text_of(photos_question) and len(button_ids(photos_question)) == 1
    return photos_question


def test_a_return_with_photos_through_approval_stock_back_and_refund(shop, graph_api, stripe_fake):
    delivered = deliver_order(paid_by_card=True, stripe=stripe_fake)
    assert stock_on_hand(delivered.variant_id) == 3
    delivered_message = last_to(graph_api, ASHA)
    assert "Return / problem" in str(delivered_message) and "reply “problem”" in text_of(delivered_message)

    photos_question = starts_a_return(shop, graph_api, delivered)
    sends_picture(shop, graph_api, ASHA, "M-1")
    assert "Got it" in text_of(last_to(graph_api, ASHA))
    sends_picture(shop, graph_api, STRANGER, "M-STRANGER")  # someone else's picture, at the same moment
    sends_picture(shop, graph_api, ASHA, "M-2", kind="document")
    taps(shop, ASHA, button_ids(photos_question)[0])  # Done

    request = the_return(delivered.reference)
    assert (request.status, request.reason) == ("requested", "damaged")
    assert [photo.media_file.media_id for photo in request.photos] == ["M-1", "M-2"]
    assert "is with our team" in text_of(last_to(graph_api, ASHA))
    conversation = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + ASHA))
    assert conversation.waiting_since is not None and conversation.handled_by == "person"
    assert request.order.attention.startswith("Return requested: Damaged")
    assert request.order.status == "delivered"  # the return is its own record
    photo_ids = [photo.id for photo in request.photos]
    for photo in request.photos:
        assert media.download(photo.media_file_id) == "stored"

    staff = shop.test_client()
    sign_in(staff, "owner@sunrise.example.com")
    page = staff.get(f"/admin/orders/{delivered.reference}").get_data(as_text=True)
    assert "Returns" in page and "Approve return" in page and f"/admin/returns/photos/{photo_ids[0]}" in page
    picture = staff.get(f"/admin/returns/photos/{photo_ids[0]}")
    assert picture.status_code == 200 and picture.data == PIXEL_PNG and picture.mimetype == "image/png"
    listed = staff.get("/admin/returns?status=requested").get_data(as_text=True)
    assert delivered.reference in listed

    base = f"/admin/orders/{delivered.reference}/returns/{request.id}"
    assert staff.post(f"{base}/approve", data={"instructions": "Hand it to our courier on Friday."}).status_code == 303
    outbox.run_due()
    assert "is approved. Hand it to our courier on Friday." in text_of(last_to(graph_api, ASHA))
    assert staff.post(f"{base}/approve", data={}).status_code == 409  # twice: nothing changes
    version = db.session.get(Order, delivered.order_id).version
    early = staff.post(f"{base}/refund", data={"amount": "1000", "reason": "Return", "version": version})
    assert early.status_code == 409 and stripe_fake.refunds == {}  # not received yet: Stripe is never asked

    assert staff.post(f"{base}/received", data={}).status_code == 303
    assert stock_on_hand(delivered.variant_id) == 5
    ledger = db.session.scalars(select(StockMovement).where(StockMovement.variant_id == delivered.variant_id)).all()
    assert ledger[-1].delta == 2 and "returned" in ledger[-1].reason
    outbox.run_due()
    assert "We have received the items you returned" in text_of(last_to(graph_api, ASHA))

    version = db.session.get(Order, delivered.order_id).version
    refunded = staff.post(f"{base}/refund", data={"amount": "1000", "reason": "Return: damaged", "version": version})
    assert refunded.status_code == 303
    [made] = stripe_fake.refunds.values()
    assert made["amount"] == 100000
    request = the_return(delivered.reference)
    assert (request.status, request.refund_minor) == ("refunded", 100000)
    outbox.run_due()
    told = text_of(last_to(graph_api, ASHA))
    assert "1,000" in told and "5–10 business days" in told
    kinds = [event.note for event in request.order.events if event.kind == "return"]
    assert kinds == [
        "Return requested in the chat: Damaged, 2 photo(s)",
        "Return approved: Hand it to our courier on Friday.",
        "Return received: the items are back in stock",
        "Return refunded",
    ]
    assert graph_api.violations == []


def test_a_rejected_return_tells_the_customer_why(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    starts_a_return(shop, graph_api, delivered, how="problem")
    says(shop, ASHA, "The colour is not what the picture showed")  # the comment, and done
    request = the_return(delivered.reference)
    assert request.comment == "The colour is not what the picture showed" and request.photos == []

    staff = shop.test_client()
    sign_in(staff, "fulfilment@sunrise.example.com")
    base = f"/admin/orders/{delivered.reference}/returns/{request.id}"
    refused = staff.post(f"{base}/reject", data={"reason": ""})
    assert refused.status_code == 409 and the_return(delivered.reference).status == "requested"
    assert staff.post(f"{base}/reject", data={"reason": "Worn items can't be returned."}).status_code == 303
    outbox.run_due()
    assert "can't accept the return for order" in text_of(last_to(graph_api, ASHA))
    assert "Worn items can't be returned." in text_of(last_to(graph_api, ASHA))
    assert the_return(delivered.reference).status == "rejected"
    assert staff.post(f"{base}/received", data={}).status_code == 409
    viewer = shop.test_client()
    sign_in(viewer, "viewer@sunrise.example.com")
    assert viewer.post(f"{base}/approve", data={}).status_code == 403


def test_after_the_return_window_the_chat_goes_to_a_person(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    delivered_event = db.session.scalar(
        select(OrderEvent).where(OrderEvent.order_id == delivered.order_id, OrderEvent.to_status == "delivered")
    )
    delivered_event.created_at -= timedelta(days=8)
    db.session.commit()

    says(shop, ASHA, "the item is damaged")

    assert "past our return window" in text_of(last_to(graph_api, ASHA))
    request = the_return(delivered.reference)
    assert request.status == "sent_to_person"
    conversation = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + ASHA))
    assert conversation.handled_by == "person" and conversation.flow_step == ""
    token_page = shop.test_client().get(f"/o/{delivered.token}").get_data(as_text=True)
    assert "Return / problem with my order" not in token_page


def test_returns_switched_off_send_every_ask_to_a_person(shop, graph_api):
    deliver_order(paid_by_card=False)
    assert "Return / problem" in str(last_to(graph_api, ASHA))
    get_store_settings().return_window_days = 0
    db.session.commit()
    says(shop, ASHA, "return")
    assert "Returns are handled by our team" in text_of(last_to(graph_api, ASHA))


def test_the_status_page_offers_the_return_link_which_starts_the_flow_for_that_order(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    page = shop.test_client().get(f"/o/{delivered.token}").get_data(as_text=True)
    assert "Return / problem with my order" in page
    assert f"Return+%2F+problem+with+my+order+{delivered.reference}" in page.replace("%20", "+")

    says(shop, ASHA, f"Return / problem with my order {delivered.reference}")

    assert row_ids(last_to(graph_api, ASHA))[0].startswith("rreason:")


def test_photos_from_another_customer_never_attach(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    photos_question = starts_a_return(shop, graph_api, delivered, how="problem")
    sends_picture(shop, graph_api, STRANGER, "M-OTHER")
    # Even the stranger tapping Asha's Done button (its id copied) attaches nothing and files nothing.
    taps(shop, STRANGER, button_ids(photos_question)[0])
    assert the_return(delivered.reference) is None
    assert "earlier message" in text_of(last_to(graph_api, STRANGER))
    taps(shop, ASHA, button_ids(photos_question)[0])
    request = the_return(delivered.reference)
    assert request.photos == []
    stranger_media = db.session.scalar(select(MediaFile).where(MediaFile.media_id == "M-OTHER"))
    assert stranger_media is not None


def test_stale_buttons_and_odd_taps_get_a_polite_word_and_change_nothing(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    photos_question = starts_a_return(shop, graph_api, delivered)
    done = button_ids(photos_question)[0]
    taps(shop, ASHA, done)
    assert the_return(delivered.reference).status == "requested"
    conversation = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + ASHA))
    conversation.handled_by = "bot"  # staff handed the chat back
    db.session.commit()

    taps(shop, ASHA, done)  # Done again
    assert "earlier message" in text_of(last_to(graph_api, ASHA))
    taps(shop, ASHA, "rreason:nonsense:damaged", listed=True)
    taps(shop, ASHA, "rreason:")
    taps(shop, ASHA, "return:NOPE-0000")
    assert "couldn't find that delivered order" in text_of(last_to(graph_api, ASHA))
    taps(shop, ASHA, f"return:{delivered.reference}")  # the delivered message's button, again
    assert "already with our team" in text_of(last_to(graph_api, ASHA))
    db.session.rollback()
    assert db.session.scalar(select(ReturnRequest).where(ReturnRequest.status != "requested")) is None
    assert len(db.session.scalars(select(ReturnRequest)).all()) == 1

    staff = shop.test_client()
    sign_in(staff, "owner@sunrise.example.com")
    assert staff.post(f"/admin/orders/{delivered.reference}/returns/999/approve", data={}).status_code == 409
    assert staff.post("/admin/orders/NOPE-0000/returns/1/approve", data={}).status_code == 404
    assert staff.get("/admin/returns/photos/999").status_code == 404
    assert staff.get("/admin/returns?status=bogus").status_code == 200
    assert graph_api.violations == []


def test_a_return_for_someone_elses_order_learns_nothing(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    taps(shop, STRANGER, f"return:{delivered.reference}")
    assert "couldn't find that delivered order" in text_of(last_to(graph_api, STRANGER))
    assert the_return(delivered.reference) is None


def test_outside_the_24_hour_window_the_decision_goes_as_the_approved_template(shop, graph_api):
    delivered = deliver_order(paid_by_card=False)
    starts_a_return(shop, graph_api, delivered, how="return")
    says(shop, ASHA, "It is torn")
    request = the_return(delivered.reference)
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+" + ASHA))
    contact.last_inbound_at -= timedelta(days=2)  # the customer last wrote two days ago
    db.session.commit()

    staff = shop.test_client()
    sign_in(staff, "owner@sunrise.example.com")
    staff.post(f"/admin/orders/{delivered.reference}/returns/{request.id}/approve", data={"instructions": ""})
    outbox.run_due()

    sent = last_to(graph_api, ASHA)
    assert sent["type"] == "template" and sent["template"]["name"] == "order_update"
    assert "is approved. Please pack the item(s)" in text_of(sent)
    assert graph_api.violations == []
