"""The staff inbox through the test client: customers' messages arrive through the signed webhook, staff read,
filter, search, assign, take, hand back, note and reply; replies go through the outbox."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, Conversation, ConversationNote, Message, OutboxItem, QuickReply, StaffUser
from checkout.whatsapp import chats
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads
from tests.messaging.conftest import cloud_settings, graph_api  # noqa: F401  (graph_api is a fixture)
from tests.messaging.test_conversations import receive

ASHA, JUMA, LINA = "919876543210", "254712345678", "5511987654321"


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox")


@pytest.fixture
def shop(app, client):
    """Asha has an open order and writes; Juma (no order) and Lina write; an owner and a fulfilment member."""
    with app.app_context():
        make_store(name="Test Shop")
        variant = make_product("Cotton Kurta", price_minor=79900, stock=20).variants[0]
        order = make_order([(variant, 1)], details=customer(name="Asha Kumar", phone="+" + ASHA))
        outbox.run_due()
        owner, fulfilment = make_staff("owner", name="Meera"), make_staff("fulfilment", name="Ravi")
        make_staff("viewer", name="Vic")
        data = {"reference": order.reference, "owner": owner.id, "fulfilment": fulfilment.id}
        db.session.remove()
    receive(client, app, payloads.text("Is my kurta on the way?", wa_id=ASHA, name="Asha"))
    receive(client, app, payloads.text("Do you deliver to Mombasa?", wa_id=JUMA, name="Juma"))
    receive(client, app, payloads.text("Olá, vocês entregam?", wa_id=LINA, name="Lina"))
    sign_in(client, "owner@sunrise.example.com")
    return data


def chat_id(app, digits: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Conversation.id).where(Conversation.phone == "+" + digits))


def conversation(app, digits: str) -> Conversation:
    with app.app_context():
        row = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + digits))
        db.session.expunge_all()
        return row


def listed(client, query: str = "") -> list[str]:
    """The names in the inbox list, top to bottom."""
    response = client.get(f"/admin/inbox{query}")
    assert response.status_code == 200
    list_html = response.get_data(as_text=True).split('aria-label="Conversations"', 2)[-1]
    return re.findall(r'<span class="inbox-who"><strong>([^<]+)</strong>', list_html)


def reply_form(client, conversation_id: int) -> dict:
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    return {"send_key": re.search(r'name="send_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)}


def outbound_to(app, digits: str) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == "+" + digits).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def a_moment_later(body: dict, seconds: int = 2) -> dict:
    """Meta's timestamps are whole seconds: move a message past the ones sent in the same second."""
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int(message["timestamp"]) + seconds)
    return body


def close_window(app, digits: str) -> None:
    with app.app_context():
        two_days_ago = utcnow() - timedelta(days=2)
        db.session.execute(update(Contact).where(Contact.phone == "+" + digits).values(last_inbound_at=two_days_ago))
        db.session.commit()


# --- the list -----------------------------------------------------------------------------------------------------


def test_a_number_with_no_order_is_in_the_inbox_newest_first_with_its_unread_count(app, client, shop):
    assert listed(client) == ["Lina", "Juma", "Asha"]
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert "Do you deliver to Mombasa?" in page
    assert 'aria-label="1 unread"' in page


def test_opening_a_conversation_marks_it_read_and_the_badge_counts_chats_with_unread_messages(app, client, shop):
    badge = client.get("/admin/inbox/unread-count")
    assert ">3</span>" in badge.get_data(as_text=True)
    assert badge.headers["HX-Trigger"] == '{"chatout:inbox-unread": 3}'

    page = client.get(f"/admin/inbox/{chat_id(app, JUMA)}").get_data(as_text=True)
    assert "Do you deliver to Mombasa?" in page
    assert conversation(app, JUMA).unread_count == 0
    assert ">2</span>" in client.get("/admin/inbox/unread-count").get_data(as_text=True)
    assert listed(client, "?show=unread") == ["Lina", "Asha"]

    receive(client, app, a_moment_later(payloads.text("Hello again", wa_id=JUMA, name="Juma")))
    assert listed(client, "?show=unread") == ["Juma", "Lina", "Asha"]


def test_filters_mine_unassigned_waiting_and_open_order(app, client, shop):
    juma_id, lina_id = chat_id(app, JUMA), chat_id(app, LINA)
    with app.app_context():
        juma = db.session.get(Conversation, juma_id)
        juma.assigned_to_id = shop["owner"]
        lina = db.session.get(Conversation, lina_id)
        chats.hand_to_person(lina, "asked for a person")
        db.session.commit()
    assert listed(client, "?show=mine") == ["Juma"]
    assert listed(client, "?show=unassigned") == ["Lina", "Asha"]
    assert listed(client, "?show=waiting") == ["Lina"]
    assert listed(client, "?show=open_order") == ["Asha"]
    assert listed(client, "?show=nonsense") == ["Lina", "Juma", "Asha"]  # an unknown filter is everything


def test_search_by_name_phone_digits_and_message_text(app, client, shop):
    assert listed(client, "?q=juma") == ["Juma"]
    assert listed(client, "?q=+254 712") == ["Juma"]
    assert listed(client, "?q=kurta on the way") == ["Asha"]
    assert listed(client, "?q=%25") == []  # a % is looked for as it is, not as "anything"
    assert "No conversation matches" in client.get("/admin/inbox?q=nobody").get_data(as_text=True)


def test_pages_of_fifty_newest_first_then_older(app, client, shop):
    with app.app_context():
        start = utcnow() - timedelta(days=3)
        contacts = [{"phone": f"+4470000{i:05d}", "name": f"Bulk {i:02d}"} for i in range(55)]
        db.session.execute(insert(Contact), contacts)
        ids = dict(db.session.execute(select(Contact.phone, Contact.id).where(Contact.phone.like("+4470000%"))).all())
        rows = [
            {
                "contact_id": ids[c["phone"]],
                "phone": c["phone"],
                "name": c["name"],
                "last_activity_at": start + timedelta(minutes=i),
                "flow_data": {},
            }
            for i, c in enumerate(contacts)
        ]
        db.session.execute(insert(Conversation), rows)
        db.session.commit()
    first = listed(client)
    assert first[:3] == ["Lina", "Juma", "Asha"] and len(first) == 50 and first[-1] == "Bulk 08"
    page = client.get("/admin/inbox").get_data(as_text=True)
    after = re.search(r'href="/admin/inbox\?after=([0-9.]+)">Older', page).group(1)
    assert listed(client, f"?after={after}") == [f"Bulk {i:02d}" for i in range(7, -1, -1)]
    assert listed(client, "?after=not-a-cursor")[:3] == ["Lina", "Juma", "Asha"]
    assert listed(client, "?after=99999999999999999.9999999999")[:1] == ["Lina"]


def test_the_list_poll_answers_204_until_a_new_message_arrives(app, client, shop):
    page = client.get("/admin/inbox").get_data(as_text=True)
    poll_url = re.search(r'hx-get="(/admin/inbox\?since=[0-9a-f]+)"', page).group(1)
    assert client.get(poll_url, headers={"HX-Request": "true"}).status_code == 204
    receive(client, app, a_moment_later(payloads.text("Any news?", wa_id=ASHA, name="Asha")))
    changed = client.get(poll_url, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "Any news?" in changed.get_data(as_text=True)
    assert "<html" not in changed.get_data(as_text=True)


# --- who answers --------------------------------------------------------------------------------------------------


def test_assign_to_someone_who_may_answer_and_not_to_a_viewer(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    assert (
        client.post(f"/admin/inbox/{conversation_id}/assign", data={"assignee": shop["fulfilment"]}).status_code == 303
    )
    assert conversation(app, JUMA).assigned_to_id == shop["fulfilment"]
    with app.app_context():
        viewer = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "viewer"))
    refused = client.post(f"/admin/inbox/{conversation_id}/assign", data={"assignee": viewer})
    assert refused.status_code == 422 and "may not answer conversations" in refused.get_data(as_text=True)
    for nonsense in ("abc", "99999", "-1", "9" * 40):
        assert client.post(f"/admin/inbox/{conversation_id}/assign", data={"assignee": nonsense}).status_code == 422
    assert conversation(app, JUMA).assigned_to_id == shop["fulfilment"]
    assert client.post(f"/admin/inbox/{conversation_id}/assign", data={"assignee": ""}).status_code == 303
    assert conversation(app, JUMA).assigned_to_id is None


def test_take_from_the_bot_and_hand_back_show_who_handles_it(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    assert "Handled by the bot." in client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    taken = client.post(f"/admin/inbox/{conversation_id}/take", headers={"HX-Request": "true"})
    assert taken.status_code == 200 and "Handled by Meera; the bot stays quiet." in taken.get_data(as_text=True)
    juma = conversation(app, JUMA)
    assert (juma.handled_by, juma.assigned_to_id, juma.waiting_since) == ("person", shop["owner"], None)
    assert listed(client, "?show=mine") == ["Juma"]

    back = client.post(f"/admin/inbox/{conversation_id}/hand-back")
    assert back.status_code == 303
    assert conversation(app, JUMA).handled_by == "bot"


def test_replying_takes_the_conversation_from_the_bot_and_the_bot_then_stays_quiet(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    assert client.post(f"/admin/inbox/{conversation_id}/reply", data={"text": "Hello Juma!"}).status_code in (200, 303)
    juma = conversation(app, JUMA)
    assert (juma.handled_by, juma.assigned_to_id, juma.waiting_since) == ("person", shop["owner"], None)
    before = len(outbound_to(app, JUMA))
    receive(client, app, a_moment_later(payloads.text("hi, I want to order", wa_id=JUMA, name="Juma")))
    assert len(outbound_to(app, JUMA)) == before  # no product list from the bot while a person has the chat


def test_internal_notes_are_kept_and_empty_or_long_ones_refused(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    assert client.post(f"/admin/inbox/{conversation_id}/notes", data={"body": "Asked about Mombasa"}).status_code == 303
    assert client.post(f"/admin/inbox/{conversation_id}/notes", data={"body": "   "}).status_code == 422
    assert client.post(f"/admin/inbox/{conversation_id}/notes", data={"body": "x" * 2001}).status_code == 422
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert "Asked about Mombasa" in page and "Meera" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(ConversationNote.id))) == 1
    assert outbound_to(app, JUMA) == [] or all("Mombasa" not in m.body_text for m in outbound_to(app, JUMA))


# --- replies ------------------------------------------------------------------------------------------------------


def test_a_reply_inside_the_window_goes_through_the_outbox_and_a_double_submit_sends_once(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    before = len(outbound_to(app, JUMA))
    form = {**reply_form(client, conversation_id), "text": "Yes, we deliver to Mombasa in 3 days."}
    assert client.post(f"/admin/inbox/{conversation_id}/reply", data=form).status_code == 303
    assert client.post(f"/admin/inbox/{conversation_id}/reply", data=form).status_code == 303
    sent = outbound_to(app, JUMA)[before:]
    assert [m.body_text for m in sent] == ["Yes, we deliver to Mombasa in 3 days."]
    assert (sent[0].kind, sent[0].status, sent[0].order_id) == ("text", "queued", None)
    with app.app_context():
        assert outbox.run_due().get("sent") == 1
    assert outbound_to(app, JUMA)[-1].status == "sent"
    assert conversation(app, JUMA).last_preview == "Yes, we deliver to Mombasa in 3 days."
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert "Yes, we deliver to Mombasa in 3 days." in page and 'title="Sent"' in page


def test_outside_the_window_a_number_with_no_order_can_only_be_told_why(app, client, shop):
    close_window(app, JUMA)
    conversation_id = chat_id(app, JUMA)
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert 'id="template-only"' in page and "Send reply" not in page
    refused = client.post(f"/admin/inbox/{conversation_id}/reply", data={"text": "Hello?", "as_template": "1"})
    assert refused.status_code == 422 and "needs an order" in refused.get_data(as_text=True)
    assert outbound_to(app, JUMA) == []


def test_outside_the_window_a_customer_with_an_order_gets_the_order_update_template(app, client, shop):
    close_window(app, ASHA)
    conversation_id = chat_id(app, ASHA)
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert "Send as order update" in page and shop["reference"] in page
    before = len(outbound_to(app, ASHA))
    plain = client.post(f"/admin/inbox/{conversation_id}/reply", data={"text": "It ships tomorrow."})
    assert plain.status_code == 422 and "Only templates can be sent" in plain.get_data(as_text=True)
    form = {**reply_form(client, conversation_id), "text": "It ships tomorrow.", "as_template": "1"}
    assert client.post(f"/admin/inbox/{conversation_id}/reply", data=form).status_code == 303
    sent = outbound_to(app, ASHA)[before:]
    assert len(sent) == 1 and sent[0].kind == "template"
    assert sent[0].payload["template"]["name"] == "order_update"
    parameters = [p["text"] for c in sent[0].payload["template"]["components"] for p in c.get("parameters", [])]
    assert "It ships tomorrow." in parameters and shop["reference"] in parameters


def test_bad_reply_input_is_refused_and_nothing_is_queued(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    before = len(outbound_to(app, JUMA))
    for data in ({}, {"text": "   "}, {"text": "x" * 4097}, {"text": "hi", "send_key": "not-a-key" * 40}):
        response = client.post(f"/admin/inbox/{conversation_id}/reply", data=data)
        assert response.status_code in (303, 422), data
    assert len(outbound_to(app, JUMA)) - before == 1  # only the last one, with a key we did not make, was sent
    assert client.get("/admin/inbox/999999").status_code == 404
    assert client.post("/admin/inbox/999999/reply", data={"text": "hi"}).status_code == 404
    assert client.get("/admin/inbox/99999999999999").status_code == 404
    assert client.get(f"/admin/inbox/{conversation_id}?before=abc&reply=zzz").status_code == 200


def test_a_reply_passes_metas_limits_on_the_cloud_api(make_app, graph_api):  # noqa: F811
    app = make_app(**cloud_settings(graph_api.url))
    client = app.test_client()
    with app.app_context():
        make_store(name="Test Shop")
        make_staff("owner")
    receive(client, app, payloads.text("Do you deliver to Mombasa?", wa_id=JUMA, name="Juma"))
    sign_in(client, "owner@sunrise.example.com")
    conversation_id = chat_id(app, JUMA)
    form = {**reply_form(client, conversation_id), "text": "*Yes* — Mombasa in 3 days 🚚\nCash on delivery."}
    assert client.post(f"/admin/inbox/{conversation_id}/reply", data=form).status_code == 303
    with app.app_context():
        outbox.run_due()
    texts = [m.body["text"]["body"] for m in graph_api.messages if m.type == "text"]
    assert "*Yes* — Mombasa in 3 days 🚚\nCash on delivery." in texts


def test_the_chat_poll_answers_204_until_a_new_message_arrives(app, client, shop):
    conversation_id = chat_id(app, JUMA)
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    poll = re.search(r'hx-get="(/admin/inbox/\d+\?since=[0-9a-f]+)"', page).group(1)
    assert client.get(poll, headers={"HX-Request": "true"}).status_code == 204
    receive(client, app, payloads.text("Hello?", wa_id=JUMA, name="Juma"))
    fresh = client.get(poll, headers={"HX-Request": "true"})
    assert fresh.status_code == 200 and "Hello?" in fresh.get_data(as_text=True)
    assert 'id="inbox-reply"' not in fresh.get_data(as_text=True)  # the box staff may be typing in stays put
    assert conversation(app, JUMA).unread_count == 0


def test_buttons_list_replies_locations_and_pictures_are_shown_for_what_they_are(app, client, shop):
    receive(client, app, payloads.reply_button("menu:more", "Show more", wa_id=JUMA, name="Juma"))
    location = {"type": "location", "location": {"latitude": -4.05, "longitude": 39.66, "name": "Nyali Beach"}}
    receive(client, app, payloads.inbound(location, wa_id=JUMA, name="Juma"))
    picture = {"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "caption": "This one"}}
    receive(client, app, payloads.inbound(picture, wa_id=JUMA, name="Juma"))
    page = client.get(f"/admin/inbox/{chat_id(app, JUMA)}").get_data(as_text=True)
    assert "Tapped" in page and "Show more" in page
    assert "Location" in page and "Nyali Beach" in page and "openstreetmap.org/?mlat=-4.05" in page
    assert "Photo" in page and "This one" in page


# --- quick replies ------------------------------------------------------------------------------------------------


def test_quick_replies_are_saved_listed_fill_the_reply_box_and_can_be_deleted(app, client, shop):
    assert client.post("/admin/inbox/quick-replies/new", data={"title": "", "body": ""}).status_code == 422
    assert client.post("/admin/inbox/quick-replies/new", data={"title": "x" * 41, "body": "b"}).status_code == 422
    created = client.post("/admin/inbox/quick-replies/new", data={"title": "Hours", "body": "Open 9 to 6, Mon–Sat."})
    assert created.status_code == 303
    with app.app_context():
        reply_id = db.session.scalar(select(QuickReply.id))
    edited = client.post(
        f"/admin/inbox/quick-replies/{reply_id}/edit", data={"title": "Opening hours", "body": "Open 9 to 7."}
    )
    assert edited.status_code == 303
    assert "Opening hours" in client.get("/admin/inbox/quick-replies").get_data(as_text=True)
    conversation_id = chat_id(app, JUMA)
    page = client.get(f"/admin/inbox/{conversation_id}").get_data(as_text=True)
    assert 'data-quick-reply="Open 9 to 7."' in page
    prefilled = client.get(f"/admin/inbox/{conversation_id}?reply={reply_id}").get_data(as_text=True)
    assert re.search(r"<textarea[^>]*>\s*Open 9 to 7.</textarea>", prefilled)
    assert client.post(f"/admin/inbox/quick-replies/{reply_id}/delete").status_code == 303
    assert client.get(f"/admin/inbox/quick-replies/{reply_id}/edit").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(QuickReply.id))) == 0
        assert db.session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.status == "failed")) == 0
