"""Every inbound message lands on its customer's conversation: activity order, unread count, preview, who answers."""

from datetime import timedelta

from sqlalchemy import select

from checkout import events, outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, Conversation
from checkout.whatsapp import chats
from checkout.whatsapp.templates import TEMPLATES
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.graph_api import ApprovedTemplate, FakeGraphApi
from tests.messaging import payloads
from tests.messaging.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, cloud_settings
from tests.messaging.test_conversations import receive

ASHA, JUMA = "919876543210", "254712345678"


def conversations(app) -> dict[str, Conversation]:
    with app.app_context():
        rows = db.session.scalars(select(Conversation)).all()
        db.session.expunge_all()
        return {row.phone: row for row in rows}


def test_a_message_from_a_number_with_no_order_starts_a_conversation_staff_can_see(app, client):
    with app.app_context():
        make_store()
    receive(client, app, payloads.text("Do you deliver to Mombasa?", wa_id=JUMA, name="Juma"))
    receive(client, app, payloads.text("  And   on Sundays?\n", wa_id=JUMA, name="Juma"))
    receive(client, app, payloads.text("hello", wa_id=ASHA, name="Asha"))

    found = conversations(app)
    assert set(found) == {"+" + JUMA, "+" + ASHA}
    juma = found["+" + JUMA]
    assert (juma.name, juma.unread_count, juma.last_preview, juma.handled_by) == ("Juma", 2, "And on Sundays?", "bot")
    assert juma.last_activity_at <= found["+" + ASHA].last_activity_at


def test_a_message_arriving_late_counts_as_unread_but_does_not_replace_the_newer_preview(app, client):
    with app.app_context():
        make_store()
    receive(client, app, payloads.text("second", wa_id=ASHA))
    late = payloads.text("first", wa_id=ASHA)
    message = late["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int((utcnow() - timedelta(minutes=5)).timestamp()))
    receive(client, app, late)
    asha = conversations(app)["+" + ASHA]
    assert (asha.unread_count, asha.last_preview) == (2, "second")


def test_handing_to_a_person_tells_staff_once_and_handing_back_lets_the_bot_answer(app, client):
    with app.app_context():
        make_store()
    receive(client, app, payloads.text("hi", wa_id=ASHA))
    heard = []
    events.subscribe(events.CONVERSATION_WAITING)(listener := lambda **data: heard.append(data["reason"]))
    try:
        with app.app_context():
            conversation = db.session.scalar(select(Conversation))
            assert chats.hand_to_person(conversation, "asked for a person") is True
            assert chats.hand_to_person(conversation, "asked again") is False
            assert conversation.waiting_since is not None
            chats.hand_to_bot(conversation)
            assert (conversation.handled_by, conversation.waiting_since) == ("bot", None)
            db.session.rollback()
    finally:
        events._subscribers[events.CONVERSATION_WAITING].remove(listener)
    assert heard == ["asked for a person"]


def test_two_contacts_never_share_a_conversation_and_a_contact_never_has_two(app, client):
    with app.app_context():
        make_store()
    for _ in range(3):
        receive(client, app, payloads.text("hi", wa_id=ASHA))
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Conversation.id))) == 1
        contact = db.session.scalar(select(Contact))
        assert chats.lock_conversation(contact).unread_count == 3
        db.session.rollback()


def test_a_customer_who_chats_in_swahili_gets_templates_in_swahili_where_the_shop_has_them(make_app):
    fake = FakeGraphApi(
        access_token=ACCESS_TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        templates=[ApprovedTemplate(t.name, t.body, len(t.quick_replies), ("en", "sw")) for t in TEMPLATES.values()],
    )
    fake.start()
    try:
        app = make_app(**cloud_settings(fake.url), WHATSAPP_TEMPLATE_LANGUAGES=("sw",))
        with app.app_context():
            make_store()
            variant = make_product("Kanga", price_minor=50000, stock=9).variants[0]
            # Juma chatted in Swahili some days ago (the window has closed); Asha never wrote.
            db.session.add(Contact(phone="+" + JUMA, wa_id=JUMA, name="Juma"))
            db.session.flush()
            db.session.add(
                Conversation(contact_id=db.session.scalar(select(Contact.id)), phone="+" + JUMA, language="sw")
            )
            db.session.commit()
            make_order([(variant, 1)], details=customer(name="Juma", phone="+" + JUMA))
            make_order([(variant, 1)], details=customer(name="Asha", phone="+" + ASHA))
            outbox.run_due()  # the confirmation requests: templates, neither has written yet
            languages = {m.to: m.body["template"]["language"]["code"] for m in fake.messages if m.type == "template"}
            db.session.remove()
    finally:
        fake.stop()
    assert languages == {JUMA: "sw", ASHA: "en"}
    assert not fake.violations
