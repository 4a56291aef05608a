"""Reminders and cart recovery on WhatsApp, lawfully: only with consent, "STOP" honoured at once in the shop's
languages, one reminder however often the sweep runs, one cart message, quiet hours and one a day at most."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Cart, Consent, Message, Order, OutboxItem, Variant, get_store_settings
from checkout.notifications import run_scheduled_work, send_due_reminders
from checkout.orders.lifecycle import transition
from checkout.whatsapp import messages, webhooks
from checkout.whatsapp.consent import CART_RECOVERY, REMINDER, ConsentMissing, has_consent
from checkout.whatsapp.recovery import send_cart_recoveries
from checkout.whatsapp.templates import CART_REMINDER, MARKETING, ORDER_CONFIRMATION_REMINDER, UTILITY
from tests.factories import customer, give_consent, make_checkout_cart, make_order, make_product, make_store
from tests.messaging import payloads

ASHA = "919876543210"
PHONE = "+" + ASHA


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store()
        variant = make_product("Cotton Kurta", price_minor=79900, stock=50).variants[0]
        order = make_order([(variant, 1)], details=customer(phone=PHONE))
        outbox.run_due()
        data = {"variant": variant.id, "order_id": order.id, "reference": order.reference}
        db.session.remove()
    return data


def receive(client, app, body) -> None:
    """A signed webhook from Meta, then what the worker does: process it and deliver the replies."""
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        webhooks.process_pending()
        outbox.run_due()
        db.session.remove()


def outbound(app, phone=PHONE) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == phone).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return rows


def purposes(app, phone=PHONE) -> list[str]:
    return [m.purpose for m in outbound(app, phone)]


def order_waiting(app, shop, *, hours: float = 2, consent: bool = True) -> None:
    """The order was placed `hours` ago and nobody wrote about it since; the customer ticked the box or not."""
    with app.app_context():
        order = db.session.get(Order, shop["order_id"])
        if consent:
            give_consent(PHONE, order=order)
        order.created_at = utcnow() - timedelta(hours=hours)
        db.session.commit()


def sweep(app, now=None) -> None:
    with app.app_context():
        send_due_reminders(now=now)
        send_cart_recoveries(now=now)
        outbox.run_due()
        db.session.remove()


def local(hour: int, minute: int = 0) -> datetime:
    """The last time the shop's clock (Asia/Kolkata, UTC+5:30) read hour:minute, within the past day, as UTC."""
    now = utcnow()
    today = now.date()
    moment = datetime(today.year, today.month, today.day, hour, minute, tzinfo=UTC) - timedelta(hours=5, minutes=30)
    while moment > now:
        moment -= timedelta(days=1)
    while moment <= now - timedelta(days=1):
        moment += timedelta(days=1)
    return moment


# --- STOP -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,region,locale",
    [
        ("STOP", "IN", "en_IN"),
        ("stop", "IN", "en_IN"),
        ("Stop.", "IN", "en_IN"),
        ("unsubscribe", "IN", "en_IN"),
        ("बंद करो", "IN", "en_IN"),
        ("Band karo", "IN", "hi_IN"),
        ("acha", "KE", "sw_KE"),
        ("Sitisha!", "KE", "en_KE"),
        ("parar", "BR", "pt_BR"),
        ("SAIR", "BR", "pt_BR"),
        ("cancelar", "BR", "pt_BR"),
    ],
)
def test_stop_in_the_shops_languages_withdraws_consent_at_once_and_answers_once(
    app, client, shop, text, region, locale
):
    with app.app_context():
        make_store(default_region=region, locale=locale)
        give_consent(PHONE)
    body = payloads.text(text, wa_id=ASHA)
    receive(client, app, body)
    receive(client, app, body)  # Meta delivers the same webhook again
    with app.app_context():
        assert not has_consent(PHONE)
        [consent] = db.session.scalars(select(Consent)).all()
        assert (consent.withdrawn_by, consent.withdrawal_note) == ("stop_message", text)
    assert purposes(app).count("reply:opt_out") == 1
    reply = outbound(app)[-1]
    assert reply.kind == "text" and "no more reminders" in reply.body_text


def test_acha_means_okay_in_an_indian_shop_and_withdraws_nothing(app, client, shop):
    with app.app_context():
        give_consent(PHONE)
    receive(client, app, payloads.text("acha", wa_id=ASHA))
    with app.app_context():
        assert has_consent(PHONE)
    assert "reply:opt_out" not in purposes(app)


def test_stop_inside_a_sentence_is_not_an_opt_out(app, client, shop):
    with app.app_context():
        give_consent(PHONE)
    receive(client, app, payloads.text("please don't stop sending me updates", wa_id=ASHA))
    with app.app_context():
        assert has_consent(PHONE)


def test_a_reminder_queued_before_stop_is_not_sent(app, client, shop):
    order_waiting(app, shop)
    with app.app_context():
        assert send_due_reminders() == 1  # queued, not yet delivered
    receive(client, app, payloads.text("STOP", wa_id=ASHA))
    reminder = next(m for m in outbound(app) if m.purpose == REMINDER)
    assert reminder.status == "failed" and "withdrew consent" in reminder.error_title
    assert purposes(app)[-1] == "reply:opt_out"
    with app.app_context():
        assert db.session.get(Order, shop["order_id"]).attention == ""  # nothing for staff to chase


# --- the pending-order reminder -----------------------------------------------------------------------------------


def test_one_reminder_with_a_link_to_the_order_through_the_utility_template(app, shop):
    order_waiting(app, shop)
    sweep(app)
    assert purposes(app) == ["order_confirmation", REMINDER]
    reminder = outbound(app)[-1]
    assert reminder.kind == "template" and reminder.status == "sent"
    assert reminder.payload["template"]["name"] == ORDER_CONFIRMATION_REMINDER.name
    assert ORDER_CONFIRMATION_REMINDER.category == UTILITY
    with app.app_context():
        order = db.session.get(Order, shop["order_id"])
        assert f"/o/{order.status_token}/whatsapp" in reminder.body_text  # the hand-off page reopens it
        assert order.events[-1].kind == "whatsapp" and "Reminder sent" in order.events[-1].note


def test_the_reminder_is_sent_once_however_often_and_wherever_the_sweep_runs(make_app, app, shop):
    order_waiting(app, shop)
    sweep(app)
    sweep(app)
    restarted = make_app()  # another worker process on the same database
    with restarted.app_context():
        run_scheduled_work()
        # A sweep that died after queueing but before its mark was kept finds the outbox key and queues nothing.
        db.session.get(Order, shop["order_id"]).reminder_sent_at = None
        db.session.commit()
        send_due_reminders()
        outbox.run_due()
        items = db.session.scalar(
            select(func.count(OutboxItem.id)).where(OutboxItem.idempotency_key.like("reminder:%"))
        )
        assert items == 1
        db.session.remove()
    assert purposes(app).count(REMINDER) == 1


def test_no_reminder_without_consent(app, shop):
    order_waiting(app, shop, consent=False)
    sweep(app)
    assert REMINDER not in purposes(app)


def test_no_reminder_once_consent_is_withdrawn(app, client, shop):
    order_waiting(app, shop)
    receive(client, app, payloads.text("unsubscribe", wa_id=ASHA))
    sweep(app)
    assert REMINDER not in purposes(app)


def test_no_reminder_before_the_shops_delay(app, shop):
    order_waiting(app, shop, hours=0.5)
    sweep(app)
    assert REMINDER not in purposes(app)
    with app.app_context():
        make_store(reminder_hours=3)
    order_waiting(app, shop, hours=2, consent=False)
    sweep(app)
    assert REMINDER not in purposes(app)


def test_no_reminder_when_the_customer_sent_the_order_from_whatsapp(app, client, shop):
    order_waiting(app, shop)
    receive(client, app, payloads.text(f"Hello! *Order {shop['reference']}*", wa_id=ASHA))
    sweep(app)
    assert REMINDER not in purposes(app)


def test_no_reminder_when_the_customer_tapped_a_button(app, client, shop):
    order_waiting(app, shop)
    with app.app_context():  # the tap could not confirm (say the order was being edited): still, they answered
        db.session.add(
            Message(direction="in", phone=PHONE, kind="button", order_id=shop["order_id"], body_text="Confirm order")
        )
        db.session.commit()
    sweep(app)
    assert REMINDER not in purposes(app)


def test_a_reminder_or_marketing_message_is_never_queued_without_consent(app, shop):
    with app.app_context():
        order = db.session.get(Order, shop["order_id"])
        cart = make_checkout_cart([(db.session.get(Variant, shop["variant"]), 1)], phone=PHONE)
        settings = get_store_settings()
        reminder = messages.confirmation_reminder(
            order, settings, hold_until=utcnow(), handoff_url="https://shop.example/o/x/whatsapp", language="en"
        )
        recovery = messages.cart_recovery(cart, settings, cart_url="https://shop.example/cart/open/x", language="en")
        for outbound_message in (reminder, recovery):
            with pytest.raises(ConsentMissing):
                outbox.enqueue_whatsapp(outbound_message, phone=PHONE, key=f"test:{outbound_message.purpose}")
        db.session.rollback()


# --- quiet hours --------------------------------------------------------------------------------------------------


def test_nothing_goes_out_in_quiet_hours_and_it_goes_when_they_end(app, shop):
    with app.app_context():
        make_store(quiet_hours_start="22:00", quiet_hours_end="08:00", time_zone="Asia/Kolkata")
    order_waiting(app, shop, hours=30)
    sweep(app, now=local(23, 30))
    sweep(app, now=local(7, 59))
    assert REMINDER not in purposes(app)
    sweep(app, now=local(8, 0))
    assert REMINDER in purposes(app)


# --- cart recovery ------------------------------------------------------------------------------------------------

SHOPPER = "+919811122233"


def abandoned_cart(app, shop, *, hours: float = 25, phone: str = SHOPPER, consent: bool = True) -> int:
    with app.app_context():
        if consent:
            give_consent(phone)
        variant = db.session.get(Variant, shop["variant"])
        cart = make_checkout_cart([(variant, 2)], phone=phone, name="Ravi", started_ago=timedelta(hours=hours))
        return cart.id


def test_a_cart_left_at_checkout_gets_one_marketing_message_with_a_link_that_reopens_it(app, shop):
    cart_id = abandoned_cart(app, shop)
    sweep(app)
    sweep(app)
    [message] = outbound(app, SHOPPER)
    assert (message.purpose, message.kind, message.status) == (CART_RECOVERY, "template", "sent")
    assert message.payload["template"]["name"] == CART_REMINDER.name and CART_REMINDER.category == MARKETING
    with app.app_context():
        cart = db.session.get(Cart, cart_id)
        assert f"/cart/open/{cart.token}" in message.body_text and "Cotton Kurta" in message.body_text
        assert cart.recovery_sent_at is not None


def test_no_cart_message_without_consent(app, shop):
    abandoned_cart(app, shop, consent=False)
    sweep(app)
    assert outbound(app, SHOPPER) == []


def test_no_cart_message_before_the_shops_delay(app, shop):
    abandoned_cart(app, shop, hours=23)
    sweep(app)
    assert outbound(app, SHOPPER) == []
    with app.app_context():
        make_store(cart_recovery_hours=12)
    sweep(app)
    assert purposes(app, SHOPPER) == [CART_RECOVERY]


def test_no_cart_message_after_an_order_was_placed_for_that_number(app, shop):
    abandoned_cart(app, shop)
    with app.app_context():
        make_order([(db.session.get(Variant, shop["variant"]), 1)], details=customer(phone=SHOPPER))
        outbox.run_due()
    sweep(app)
    assert CART_RECOVERY not in purposes(app, SHOPPER)


def test_no_cart_message_after_an_order_of_that_number_was_cancelled(app, shop):
    with app.app_context():
        earlier = make_order([(db.session.get(Variant, shop["variant"]), 1)], details=customer(phone=SHOPPER))
        earlier.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
        earlier_id = earlier.id
    abandoned_cart(app, shop)
    with app.app_context():
        transition(db.session.get(Order, earlier_id), "cancelled", actor="customer", note="Changed my mind")
        db.session.commit()
    sweep(app)
    assert CART_RECOVERY not in purposes(app, SHOPPER)


def test_no_cart_message_for_a_cart_that_became_an_order(app, shop):
    cart_id = abandoned_cart(app, shop)
    with app.app_context():
        db.session.get(Cart, cart_id).order_id = shop["order_id"]
        db.session.commit()
    sweep(app)
    assert outbound(app, SHOPPER) == []


def test_at_most_one_recovery_message_per_customer_a_day(app, shop):
    order_waiting(app, shop, hours=30)  # Asha's pending order is reminded…
    abandoned_cart(app, shop, phone=PHONE)  # …and she also left a cart at checkout since
    abandoned_cart(app, shop, phone=PHONE, hours=26)
    sweep(app)
    assert [p for p in purposes(app) if p in (REMINDER, CART_RECOVERY)] == [REMINDER]
    with app.app_context():  # a day later, one cart message; the other cart waits another day
        for message in db.session.scalars(select(Message).where(Message.purpose == REMINDER)):
            message.created_at -= timedelta(hours=24, minutes=1)
        db.session.commit()
    sweep(app)
    assert [p for p in purposes(app) if p in (REMINDER, CART_RECOVERY)] == [REMINDER, CART_RECOVERY]


def test_a_cart_message_waits_for_the_end_of_quiet_hours(app, shop):
    with app.app_context():
        make_store(quiet_hours_start="21:00", quiet_hours_end="09:00", time_zone="Asia/Kolkata")
    abandoned_cart(app, shop, hours=50)
    sweep(app, now=local(22))
    assert outbound(app, SHOPPER) == []
    sweep(app, now=local(9, 5))
    assert purposes(app, SHOPPER) == [CART_RECOVERY]
