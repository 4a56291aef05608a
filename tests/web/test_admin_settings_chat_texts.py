"""The chat texts page: the owner writes the ordering chat's words per language; refusals save nothing."""

import html

import pytest

from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.whatsapp.chat_order_texts import TEXTS
from checkout.whatsapp.chat_text_editing import CHAT_TEXT_KEYS, CHAT_TEXT_LABELS
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store

URL = "/admin/settings/chat-texts"


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    return client


def stored(app) -> dict:
    with app.app_context():
        texts = dict(get_store_settings().chat_texts)
        db.session.remove()
        return texts


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def form(language: str, **texts) -> dict:
    """Every field of the page as a browser posts it: the ones not given empty."""
    return {"language": language, **{f"text-{key}": texts.get(key, "") for key in CHAT_TEXT_KEYS}}


def test_the_page_lists_every_text_with_its_label_and_default(owner):
    page = page_text(owner.get(f"{URL}?language=sw"))
    for key in CHAT_TEXT_KEYS:
        assert f'name="text-{key}"' in page and CHAT_TEXT_LABELS[key] in page
    assert f'placeholder="{TEXTS["sw"]["add_more"]}"' in page
    assert f'placeholder="{TEXTS["en"]["what_next"]}"' in page  # no Swahili of its own: the English is used
    assert 'aria-current="true">Swahili<' in page
    assert owner.get(f"{URL}?language=klingon").status_code == 400


def test_saving_keeps_only_texts_that_differ_from_the_default(app, owner):
    response = owner.post(
        URL,
        data=form(
            "hinglish",
            add_more="Aur chahiye",
            checkout=TEXTS["hinglish"]["checkout"],  # the default typed again: not stored
            cart="Cart:\r\n{lines}\r\nKul: {subtotal}",
            stopped="   ",
        ),
    )
    assert response.status_code == 303 and "language=hinglish" in response.headers["Location"]
    assert stored(app) == {"hinglish": {"add_more": "Aur chahiye", "cart": "Cart:\n{lines}\nKul: {subtotal}"}}
    page = page_text(owner.get(response.headers["Location"]))
    assert "Chat texts in Hinglish saved." in page and 'value="Aur chahiye"' in page

    owner.post(URL, data=form("pt", confirm="Sim, pedir"))  # another language leaves Hinglish alone
    assert stored(app) == {
        "hinglish": {"add_more": "Aur chahiye", "cart": "Cart:\n{lines}\nKul: {subtotal}"},
        "pt": {"confirm": "Sim, pedir"},
    }


def test_an_invalid_text_is_explained_under_its_field_and_nothing_is_saved(app, owner):
    owner.post(URL, data=form("en", add_more="More please"))
    response = owner.post(
        URL,
        data=form(
            "en",
            add_more="Something else",
            already_placed="Done: {reference} {price}",
            cart="Your cart, {subtotal}",
            confirm="Yes, place my order right now",
        ),
    )
    page = page_text(response)
    assert response.status_code == 422
    assert "Nothing was saved: 3 texts need fixing" in page
    assert "{price} can't be used in this text. You can use: {reference}, {url}." in page
    assert "Keep {lines}: the customer needs it in this message." in page
    assert "This is a button label: WhatsApp shows at most 20 characters (it has 29)." in page
    assert 'value="Something else"' in page and "Done: {reference} {price}</textarea>" in page  # nothing typed is lost
    assert 'aria-invalid="true"' in page
    assert stored(app) == {"en": {"add_more": "More please"}}


def test_huge_and_invisible_characters_are_refused_and_nul_is_a_clear_400(app, owner):
    response = owner.post(URL, data=form("en", ask_name="x" * 100_000, stopped="Stop\u202eped", cancel="Can\tcel"))
    page = page_text(response)
    assert response.status_code == 422
    assert "Keep the text to 1000 characters (it has 100000)." in page
    assert "Remove the invisible text-direction marks" in page
    assert "Remove the invisible control characters" in page
    response = owner.post(URL, data=form("en", ask_name="Na\x00me"))
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert stored(app) == {}
    assert owner.post(URL, data={"text-ask_name": "Name?"}).status_code == 400  # no language: nothing to save to


def test_reset_to_default_and_clearing_a_field_bring_the_default_back(app, owner):
    owner.post(URL, data=form("sw", add_more="Zaidi", confirm="Ndiyo", cancel="Hapana"))
    page = page_text(owner.get(f"{URL}?language=sw"))
    assert page.count("Reset to default") == 3

    response = owner.post(
        URL, data={**form("sw", add_more="Zaidi", confirm="Ndiyo", cancel="Hapana"), "reset": "add_more"}
    )
    assert response.status_code == 303
    assert stored(app) == {"sw": {"confirm": "Ndiyo", "cancel": "Hapana"}}
    assert "“Button: add more” is back to the default in Swahili." in page_text(owner.get(response.headers["Location"]))

    owner.post(URL, data=form("sw", confirm="Ndiyo"))  # the cancel field emptied
    assert stored(app) == {"sw": {"confirm": "Ndiyo"}}
    owner.post(URL, data=form("sw"))
    assert stored(app) == {}


def test_a_manager_may_not_edit_the_chat_texts(app, client):
    with app.app_context():
        make_store()
        make_staff("manager")
    sign_in(client, "manager@sunrise.example.com")
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=form("en", add_more="x")).status_code == 403
