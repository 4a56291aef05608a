"""Consent to WhatsApp reminders: asked at checkout in every channel, recorded with its words, shown and
withdrawn on the order page, set up in the settings; and the orders reminders won back, on the dashboard."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout.api import keys
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Consent, Message, Order, Variant, get_store_settings
from checkout.models.store import DEFAULT_CONSENT_WORDING
from checkout.orders.lifecycle import transition
from checkout.whatsapp.consent import CART_RECOVERY, REMINDER, has_consent
from checkout.whatsapp.recovery import mark_recovered_orders
from tests.admin_helpers import make_staff, sign_in
from tests.factories import give_consent, make_order, make_product, make_store
from tests.web.test_checkout import checkout_form, fill_cart

SHOP_SITE = "https://myshop.example"


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(allowed_origins=[SHOP_SITE])
        variant = make_product("Cotton Kurta", price_minor=79900, stock=50, sku="KUR").variants[0]
        _, secret = keys.create_key("Shop backend", "secret")
        _, widget = keys.create_key("Widget", "widget")
        db.session.commit()
        data = {"variant": variant.id, "secret": secret, "widget": widget}
        db.session.remove()
    return data


def consents(app) -> list[Consent]:
    with app.app_context():
        rows = db.session.scalars(select(Consent).order_by(Consent.id)).all()
        db.session.expunge_all()
        return rows


def checkout_page(client, shop) -> str:
    fill_cart(client, (shop["variant"], 1))
    return html.unescape(client.get("/checkout").get_data(as_text=True))


def consent_box(page: str) -> str:
    return re.search(r'<input[^>]*id="consent"[^>]*>', page).group(0)


# --- asked and recorded at checkout ------------------------------------------------------------------------------


def test_the_checkout_asks_with_the_shops_wording_unticked_by_default(client, shop):
    page = checkout_page(client, shop)
    assert DEFAULT_CONSENT_WORDING in page
    box = consent_box(page)
    assert 'type="checkbox"' in box and "checked" not in box


def test_a_shop_may_tick_the_box_for_shoppers_and_word_it_its_own_way(app, client, shop):
    with app.app_context():
        make_store(consent_ticked_by_default=True, consent_wording="Remind me about my order on WhatsApp")
    page = checkout_page(client, shop)
    box = consent_box(page)
    assert "Remind me about my order on WhatsApp" in page and "checked" in box


def test_ticking_the_box_records_consent_with_the_words_shown(app, client, shop):
    fill_cart(client, (shop["variant"], 1))
    assert client.post("/checkout", data=checkout_form(client, consent="y")).status_code == 303
    [consent] = consents(app)
    assert (consent.phone, consent.source, consent.wording) == ("+919876543210", "website", DEFAULT_CONSENT_WORDING)
    assert consent.order_id is not None and consent.withdrawn_at is None


def test_leaving_the_box_unticked_records_nothing(app, client, shop):
    fill_cart(client, (shop["variant"], 1))
    assert client.post("/checkout", data=checkout_form(client)).status_code == 303
    assert consents(app) == []


def test_a_repeated_submission_records_consent_once(app, client, shop):
    fill_cart(client, (shop["variant"], 1))
    form = checkout_form(client, consent="y")
    client.post("/checkout", data=form)
    client.post("/checkout", data=form)
    assert len(consents(app)) == 1


def api_order(client, key_header: dict, **extra):
    body = {
        "items": [{"sku": "KUR", "quantity": 1}],
        "customer": {"name": "Asha Kumar", "phone": "098765 43210", "address": "Beth House"},
        **extra,
    }
    return client.post("/api/v1/orders", json=body, headers=key_header)


def test_the_store_api_records_consent_from_the_shops_server(app, client, shop):
    response = api_order(client, {"Authorization": f"Bearer {shop['secret']}"}, consent=True)
    assert response.status_code == 201
    [consent] = consents(app)
    assert (consent.source, consent.wording) == ("api", DEFAULT_CONSENT_WORDING)


def test_the_widget_records_consent_as_the_widgets(app, client, shop):
    headers = {"X-Chatout-Widget-Key": shop["widget"], "Origin": SHOP_SITE}
    config = client.get(f"/api/v1/widget/config?key={shop['widget']}", headers={"Origin": SHOP_SITE}).get_json()
    assert (config["consent_wording"], config["consent_ticked"]) == (DEFAULT_CONSENT_WORDING, False)
    assert api_order(client, headers, consent=True).status_code == 201
    assert [c.source for c in consents(app)] == ["widget"]


def test_an_api_order_without_consent_records_none_and_a_wrong_value_is_explained(app, client, shop):
    headers = {"Authorization": f"Bearer {shop['secret']}"}
    assert api_order(client, headers, consent=False).status_code == 201
    refused = api_order(client, headers, consent="yes")
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"]["consent"] == "Must be true or false."
    assert consents(app) == []


# --- the order page: history and withdrawing ---------------------------------------------------------------------


@pytest.fixture
def ordered(app, shop):
    with app.app_context():
        variant = db.session.get(Variant, shop["variant"])
        order = make_order([(variant, 1)])
        give_consent(order.customer_phone, order=order)
        make_staff("owner")
        make_staff("viewer")
        reference = order.reference
        db.session.remove()
    return reference


def test_the_order_page_shows_the_customers_consent_history(app, client, ordered):
    sign_in(client, "owner@sunrise.example.com")
    page = html.unescape(client.get(f"/admin/orders/{ordered}").get_data(as_text=True))
    assert "The customer agreed to order updates and reminders." in page
    assert f"Website · “{DEFAULT_CONSENT_WORDING}”" in page
    assert "Withdraw consent" in page


def test_staff_can_withdraw_consent_and_the_history_says_who(app, client, ordered):
    sign_in(client, "owner@sunrise.example.com")
    response = client.post(f"/admin/orders/{ordered}/consent/withdraw", headers={"HX-Request": "true"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Consent withdrawn" in page
    assert "No consent: this number gets no reminders" in page and "Withdrawn " in page
    with app.app_context():
        assert not has_consent("+919876543210")
        [consent] = db.session.scalars(select(Consent)).all()
        assert consent.withdrawn_by == "staff" and consent.withdrawal_note


def test_a_viewer_sees_the_history_but_cannot_withdraw(app, client, ordered):
    sign_in(client, "viewer@sunrise.example.com")
    assert "Withdraw consent" not in client.get(f"/admin/orders/{ordered}").get_data(as_text=True)
    assert client.post(f"/admin/orders/{ordered}/consent/withdraw").status_code == 403
    with app.app_context():
        assert has_consent("+919876543210")


# --- settings ------------------------------------------------------------------------------------------------------


def post_reminders(client, **fields):
    data = {
        "section": "reminders",
        "consent_wording": DEFAULT_CONSENT_WORDING,
        "reminder_hours": "1",
        "cart_recovery_hours": "24",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        **fields,
    }
    return client.post("/admin/settings", data=data)


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
        make_staff("owner")
        db.session.remove()
    sign_in(client, "owner@sunrise.example.com")
    return client


def test_the_reminder_settings_are_saved(app, owner):
    response = post_reminders(
        owner,
        consent_wording="  WhatsApp me   about my order ",
        consent_ticked_by_default="y",
        reminder_hours="3",
        cart_recovery_hours="12",
        quiet_hours_start="21:30",
        quiet_hours_end="8:00",
    )
    assert response.status_code == 303
    with app.app_context():
        settings = get_store_settings()
        assert (settings.consent_wording, settings.consent_ticked_by_default) == ("WhatsApp me about my order", True)
        assert (settings.reminder_hours, settings.cart_recovery_hours) == (3, 12)
        assert (settings.quiet_hours_start, settings.quiet_hours_end) == ("21:30", "08:00")


def test_an_emptied_wording_goes_back_to_the_standard_one(app, owner):
    assert post_reminders(owner, consent_wording="").status_code == 303
    with app.app_context():
        assert get_store_settings().consent_wording == DEFAULT_CONSENT_WORDING


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "08:00"}, "24-hour clock"),
        ({"quiet_hours_start": "22:00"}, "Give both ends"),
        ({"quiet_hours_start": "08:00", "quiet_hours_end": "08:00"}, "another time"),
        ({"cart_recovery_hours": "0"}, "from 1 to 72"),
        ({"consent_wording": "x" * 301}, "300 characters"),
    ],
)
def test_bad_reminder_settings_are_explained_and_nothing_saved(app, owner, fields, message):
    response = post_reminders(owner, **fields, reminder_hours="5")
    assert response.status_code == 422 and message in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert get_store_settings().reminder_hours == 1


# --- the dashboard ---------------------------------------------------------------------------------------------------


def test_the_dashboard_counts_orders_won_back_and_their_value(app, client, shop):
    with app.app_context():
        variant = db.session.get(Variant, shop["variant"])
        reminded = make_order([(variant, 2)])
        reminded.reminder_sent_at = utcnow() - timedelta(hours=2)
        transition(reminded, "confirmed", actor="customer")
        never_reminded = make_order([(variant, 1)])
        transition(never_reminded, "confirmed", actor="customer")
        db.session.commit()
        assert mark_recovered_orders() == 1
        assert db.session.get(Order, reminded.id).recovered_by == REMINDER
        make_staff("owner")
        db.session.remove()
    sign_in(client, "owner@sunrise.example.com")
    page = html.unescape(client.get("/admin/dashboard").get_data(as_text=True))
    card = page.split('id="recovered-heading"')[1].split("</section>")[0]
    assert '<p class="figure" aria-labelledby="recovered-orders">1</p>' in card
    assert "₹1,648.00" in card  # two kurtas and the delivery fee


def cart_message_sent(ago: timedelta, phone: str = "+919876543210") -> None:
    db.session.add(
        Message(direction="out", phone=phone, kind="template", purpose=CART_RECOVERY, created_at=utcnow() - ago)
    )
    db.session.commit()


@pytest.mark.parametrize("ago,won_back", [(timedelta(hours=30), True), (timedelta(hours=80), False)])
def test_an_order_placed_within_three_days_of_a_cart_message_is_won_back(app, shop, ago, won_back):
    with app.app_context():
        cart_message_sent(ago)
        order = make_order([(db.session.get(Variant, shop["variant"]), 1)])
        assert mark_recovered_orders() == int(won_back)
        assert db.session.get(Order, order.id).recovered_by == (CART_RECOVERY if won_back else "")
        assert mark_recovered_orders() == 0  # credited once


def test_how_long_idle_carts_are_kept_is_a_setting_with_bounds(app, owner):
    assert post_reminders(owner, cart_expiry_days="7").status_code == 303
    refused = post_reminders(owner, cart_expiry_days="0")
    assert refused.status_code == 422
    assert "How long carts are kept must be a whole number from 1 to 365." in refused.get_data(as_text=True)
    with app.app_context():
        assert get_store_settings().cart_expiry_days == 7
