"""The FAQ admin page through the test client: list, add, edit, switch off, delete, try a message; who may."""

import html

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import FaqEntry
from checkout.shop.faq import FaqDraft, save_faq_entry
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store()
        for role in ("owner", "manager", "fulfilment", "viewer"):
            make_staff(role)
        entry = save_faq_entry(
            None, FaqDraft(question="How long is delivery?", keywords="delivery, kab tak", answer="3–7 days.")
        )
        entry_id = entry.id
        db.session.remove()
    return entry_id


def signed_in(app, role: str):
    client = app.test_client()
    assert sign_in(client, f"{role}@sunrise.example.com").status_code == 302
    return client


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def entries(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(FaqEntry).order_by(FaqEntry.position))
        return [(e.question, e.keywords, e.answer, e.active, e.position) for e in rows]


def test_the_list_shows_each_answer_and_the_nav_links_to_it(app, shop):
    page = text_of(signed_in(app, "manager").get("/admin/faq"))
    assert "How long is delivery?" in page and "delivery, kab tak" in page and "3–7 days." in page
    assert 'href="/admin/faq"' in page and 'aria-current="page"' in page


def test_adding_an_answer(app, shop):
    client = signed_in(app, "owner")
    response = client.post(
        "/admin/faq/new",
        data={"question": "Cash on delivery?", "keywords": "cod, cash", "answer": "Yes.", "active": "y"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/admin/faq"
    assert entries(app)[-1] == ("Cash on delivery?", "cod, cash", "Yes.", True, 20)
    assert "Added the answer to “Cash on delivery?”." in text_of(client.get("/admin/faq"))


def test_a_bad_entry_is_shown_again_with_every_error(app, shop):
    response = signed_in(app, "owner").post("/admin/faq/new", data={"question": "", "keywords": "", "answer": ""})
    page = text_of(response)
    assert response.status_code == 422
    assert "Write the question" in page and "Give at least one keyword" in page and "Write the answer" in page
    assert len(entries(app)) == 1


def test_editing_and_switching_an_answer_off(app, shop):
    client = signed_in(app, "manager")
    form = text_of(client.get(f"/admin/faq/{shop}/edit"))
    assert 'value="How long is delivery?"' in form and 'value="10"' in form and "checked" in form
    response = client.post(
        f"/admin/faq/{shop}/edit",
        data={"question": "Delivery time?", "keywords": "delivery", "answer": "2–5 days.", "position": "5"},
    )
    assert response.status_code == 303
    assert entries(app) == [("Delivery time?", "delivery", "2–5 days.", False, 5)]
    assert "Off" in text_of(client.get("/admin/faq"))


def test_deleting_an_answer(app, shop):
    client = signed_in(app, "owner")
    assert client.post(f"/admin/faq/{shop}/delete").status_code == 303
    assert entries(app) == []
    assert client.post(f"/admin/faq/{shop}/delete").status_code == 404
    assert client.get(f"/admin/faq/{shop}/edit").status_code == 404


def test_trying_a_message_shows_which_answer_the_chat_gives(app, shop):
    client = signed_in(app, "manager")
    assert "The chat answers with “How long is delivery?”: 3–7 days." in text_of(
        client.get("/admin/faq", query_string={"try": "delivery kab tak hogi?"})
    )
    assert "No answer matches this message." in text_of(client.get("/admin/faq?try=chai"))


@pytest.mark.parametrize("role", ["fulfilment", "viewer"])
def test_fulfilment_and_viewers_may_not_see_or_change_answers(app, shop, role):
    client = signed_in(app, role)
    assert client.get("/admin/faq").status_code == 403
    assert client.post(f"/admin/faq/{shop}/delete").status_code == 403
    assert 'href="/admin/faq"' not in client.get("/admin/orders").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FaqEntry)) == 1
