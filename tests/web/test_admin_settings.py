"""Store settings through the test client: saved when right, explained when wrong, owner only.

Also the message texts: their placeholders, the preview, and render_message_text as notifications use it.
"""

import html
import re

import pytest

from checkout.extensions import db
from checkout.models import StaffUser, get_store_settings
from checkout.whatsapp.wording import (
    DEFAULT_MESSAGE_TEXTS,
    MESSAGE_KEYS,
    InvalidMessageText,
    UnknownMessageKey,
    check_message_text,
    render_message_text,
    render_text,
)
from tests.factories import make_store

PASSWORD = "correct horse battery"

FORM = {
    "name": "Mama Mboga",
    "tagline": "Fresh from the market",
    "logo_url": "https://cdn.example.com/logo.png",
    "whatsapp_number": "0712 345678",
    "default_region": "ke",
    "currency": "kes",
    "locale": "sw-ke",
    "delivery_fee": "150.50",
    "free_delivery_threshold": "",
    "pickup_enabled": "y",
    "pickup_address": "Stall 4, Wakulima Market",
    "reservation_hours": "48",
    "low_stock_threshold": "3",
    "max_pending_units_per_phone": "40",
    "payment_methods": ["transfer"],
    **{f"message_{key}": text for key, text in DEFAULT_MESSAGE_TEXTS.items()},
}


def make_staff(app, role, email=None, password=PASSWORD):
    with app.app_context():
        user = StaffUser(email=email or f"{role}@shop.example", name=role.title(), role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.email


def sign_in(client, email, password=PASSWORD):
    response = client.post("/admin/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
    sign_in(client, make_staff(app, "owner"))
    return client


def stored_settings(app):
    with app.app_context():
        settings = get_store_settings()
        db.session.expunge(settings)
        return settings


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- saving ---------------------------------------------------------------------------------------------------


def test_settings_page_shows_the_current_settings_and_every_message_text(owner):
    page = page_text(owner.get("/admin/settings"))
    assert 'value="Test Shop"' in page and 'value="+919876543210"' in page
    assert 'value="50.00"' in page  # 5000 minor units of INR, as a decimal
    assert "<textarea" in page and "message_confirmed" not in page  # the texts have their own page
    page = page_text(owner.get("/admin/settings/messages"))
    for key in MESSAGE_KEYS:
        assert f'<textarea aria-describedby="message_{key}-hint"' in page
    assert page.count('class="message-preview"') == len(MESSAGE_KEYS)
    assert 'hx-post="/admin/settings/messages/shipped/preview"' in page  # live preview while typing
    assert page.count('<button type="submit" name="preview"') == len(MESSAGE_KEYS)  # and without JavaScript
    assert "Hi Asha Kumar, your order 7KQ2-M4XR from Test Shop is confirmed. Total: ₹1,499.00." in page


def test_valid_settings_are_normalised_and_saved(app, owner):
    response = owner.post("/admin/settings", data=FORM)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/settings")
    settings = stored_settings(app)
    assert settings.name == "Mama Mboga" and settings.tagline == "Fresh from the market"
    assert settings.logo_url == "https://cdn.example.com/logo.png"
    assert settings.whatsapp_number == "+254712345678"  # read as a Kenyan number: the region chosen in the form
    assert (settings.default_region, settings.currency, settings.locale) == ("KE", "KES", "sw_KE")
    assert settings.delivery_fee_minor == 15050
    assert settings.free_delivery_threshold_minor is None
    assert settings.pickup_enabled and settings.pickup_address == "Stall 4, Wakulima Market"
    assert (settings.reservation_hours, settings.low_stock_threshold) == (48, 3)
    assert settings.max_pending_units_per_phone == 40
    assert settings.payment_methods == ["transfer"]
    assert settings.message_texts == {}  # every text is the default: nothing stored
    assert settings.time_zone == "" and settings.zone_name == "Africa/Nairobi"  # none typed: the country's
    assert "Settings saved." in page_text(owner.get("/admin/settings"))


def test_a_time_zone_is_saved_as_the_zone_database_spells_it(app, owner):
    assert owner.post("/admin/settings", data={**FORM, "time_zone": " africa/dar_es_salaam "}).status_code == 303
    assert stored_settings(app).time_zone == "Africa/Dar_es_Salaam"


def test_amounts_follow_the_decimals_of_the_chosen_currency(app, owner):
    response = owner.post(
        "/admin/settings", data={**FORM, "currency": "JPY", "delivery_fee": "500", "free_delivery_threshold": "5000"}
    )
    assert response.status_code == 303
    settings = stored_settings(app)
    assert (settings.delivery_fee_minor, settings.free_delivery_threshold_minor) == (500, 5000)

    response = owner.post("/admin/settings", data={**FORM, "currency": "JPY", "delivery_fee": "500.5"})
    assert response.status_code == 422
    assert "JPY amounts have no decimals." in page_text(response)


def test_the_shops_own_whatsapp_number_may_be_a_toll_free_business_line(app, owner):
    """Meta registers Business numbers on toll-free lines; a shopper's number may not be one (checkout/phones.py)."""
    assert owner.post("/admin/settings", data={**FORM, "whatsapp_number": "0800 223 456"}).status_code == 303
    assert stored_settings(app).whatsapp_number == "+254800223456"


def test_amounts_are_read_as_the_chosen_locale_writes_them(app, owner):
    response = owner.post(
        "/admin/settings", data={**FORM, "delivery_fee": "Ksh 1,250.50", "free_delivery_threshold": "KES 10,000"}
    )
    assert response.status_code == 303
    settings = stored_settings(app)
    assert (settings.delivery_fee_minor, settings.free_delivery_threshold_minor) == (125050, 1000000)

    german = {**FORM, "currency": "EUR", "locale": "de_DE", "delivery_fee": "1.250,50 €", "free_delivery_threshold": ""}
    assert owner.post("/admin/settings", data=german).status_code == 303
    assert stored_settings(app).delivery_fee_minor == 125050


def test_pickup_can_be_turned_off_without_an_address(app, owner):
    form = {key: value for key, value in FORM.items() if key != "pickup_enabled"}
    response = owner.post("/admin/settings", data={**form, "pickup_address": ""})
    assert response.status_code == 303
    assert stored_settings(app).pickup_enabled is False


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"whatsapp_number": "12345"}, "whatsapp_number", "isn't valid"),
        ({"whatsapp_number": "call the shop"}, "whatsapp_number", "doesn't look like a phone number"),
        ({"whatsapp_number": ""}, "whatsapp_number", "Please enter your WhatsApp number."),
        ({"currency": "XYZ"}, "currency", "ISO 4217"),
        ({"currency": "rupees"}, "currency", "ISO 4217"),
        ({"default_region": "ZZ"}, "default_region", "two-letter country code"),
        ({"default_region": "Kenya"}, "default_region", "two-letter country code"),
        ({"locale": "xx_YY"}, "locale", "language and country code"),
        ({"locale": "en_ZZ"}, "locale", "language and country code"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Use a time zone name like Asia/Kolkata"),
        ({"delivery_fee": "fifty"}, "delivery_fee", "is not an amount; write it like 5844 or 5,844.50"),
        ({"delivery_fee": "12,50"}, "delivery_fee", "is not an amount"),  # sw_KE groups with commas
        ({"delivery_fee": "-5"}, "delivery_fee", "An amount cannot be negative."),
        ({"delivery_fee": "NaN"}, "delivery_fee", "is not an amount"),
        ({"delivery_fee": "1e999997"}, "delivery_fee", "is not an amount"),
        ({"delivery_fee": "1.234"}, "delivery_fee", "KES amounts have at most 2 decimals."),
        ({"delivery_fee": "99999999999"}, "delivery_fee", "too large"),
        ({"free_delivery_threshold": "lots"}, "free_delivery_threshold", "is not an amount"),
        ({"pickup_address": "  "}, "pickup_address", "Give the pickup address, or turn pickup off."),
        ({"reservation_hours": "0"}, "reservation_hours", "from 1 to 168"),
        ({"reservation_hours": "169"}, "reservation_hours", "from 1 to 168"),
        ({"reservation_hours": "soon"}, "reservation_hours", "Not a valid integer value."),
        ({"low_stock_threshold": "-1"}, "low_stock_threshold", "from 0 to 100000"),
        ({"max_pending_units_per_phone": "0"}, "max_pending_units_per_phone", "from 1 to 100000"),
        ({"max_pending_units_per_phone": ""}, "max_pending_units_per_phone", "Enter a number."),
        ({"payment_methods": []}, "payment_methods", "Offer at least one of the payment methods listed."),
        ({"payment_methods": ["card"]}, "payment_methods", "not a valid choice"),
        ({"name": " "}, "name", "Give the shop a name"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url", "starting with https://"),
        ({"message_confirmed": "Hi {name}!"}, "message_confirmed", "{name} is not a placeholder we know."),
        ({"message_confirmed": "Hi {customer_name"}, "message_confirmed", "A brace is not closed or not opened."),
        ({"message_confirmed": "Price in {} braces"}, "message_confirmed", "{} is not a placeholder we know."),
        ({"message_confirmed": "All done }"}, "message_confirmed", "A brace is not closed or not opened."),
        ({"message_confirmed": "{reference.__class__}"}, "message_confirmed", "is not a placeholder we know"),
        ({"message_confirmed": "{total:>20}"}, "message_confirmed", "without extras"),
        ({"message_preparing": "Sorry: {reason}"}, "message_preparing", "{reason} can't be used in this message."),
        ({"message_delivered": "x" * 1001}, "message_delivered", "Keep the message to 1000 characters"),
    ],
)
def test_bad_settings_are_explained_under_their_field_and_nothing_is_saved(app, owner, changes, field, message):
    response = owner.post("/admin/settings", data={**FORM, **changes})
    assert response.status_code == 422
    page = page_text(response)
    errors = re.findall(rf'<p class="field-error"(?: id="{field}-error")?>([^<]*)</p>', page)
    assert any(message in error for error in errors), errors
    settings = stored_settings(app)
    assert settings.name == "Test Shop" and settings.message_texts == {}


def test_every_problem_is_reported_at_once(owner):
    response = owner.post(
        "/admin/settings",
        data={**FORM, "currency": "XYZ", "default_region": "ZZ", "reservation_hours": "soon", "payment_methods": []},
    )
    page = page_text(response)
    assert "ISO 4217" in page and "two-letter country code" in page
    assert "Not a valid integer value." in page and "Offer at least one" in page


def test_only_texts_that_differ_from_the_default_are_stored(app, owner):
    own = "Asante {customer_name}! Order {reference} is confirmed.\r\nTotal: {total}"
    response = owner.post("/admin/settings", data={**FORM, "message_confirmed": own})
    assert response.status_code == 303
    assert stored_settings(app).message_texts == {
        "confirmed": "Asante {customer_name}! Order {reference} is confirmed.\nTotal: {total}"
    }

    # Emptying a text goes back to the default, and the default shows in the form again.
    response = owner.post("/admin/settings", data={**FORM, "message_confirmed": ""})
    assert response.status_code == 303
    assert stored_settings(app).message_texts == {}
    assert DEFAULT_MESSAGE_TEXTS["confirmed"].split("\n")[0] in page_text(owner.get("/admin/settings/messages"))


def test_literal_braces_are_written_doubled(app, owner):
    response = owner.post("/admin/settings", data={**FORM, "message_delivered": "Enjoy {{your}} order {reference}"})
    assert response.status_code == 303
    with app.app_context():
        rendered = render_message_text("delivered", get_store_settings(), reference="7KQ2-M4XR")
    assert rendered == "Enjoy {your} order 7KQ2-M4XR"


# --- previews -------------------------------------------------------------------------------------------------


def test_preview_renders_the_typed_text_with_a_sample_order(owner):
    text = "Hi {customer_name}, order {reference}: {total}\nTracking: {tracking_number}\n<b>bold?</b>"
    response = owner.post(
        "/admin/settings/messages/shipped/preview", data={"message_shipped": text}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="preview-shipped"') and "<html" not in body
    assert "&lt;b&gt;bold?&lt;/b&gt;" in body  # the shop's text is shown, never run as HTML
    assert "Hi Asha Kumar, order 7KQ2-M4XR: ₹1,499.00\nTracking: BD123456789IN" in html.unescape(body)


def test_preview_of_a_broken_text_shows_the_reason_instead_of_failing(owner):
    response = owner.post("/admin/settings/messages/confirmed/preview", data={"message_confirmed": "Hi {oops"})
    assert response.status_code == 200
    assert "A brace is not closed or not opened." in page_text(response)


def test_preview_of_an_empty_text_shows_the_default(owner):
    response = owner.post("/admin/settings/messages/delivered/preview", data={"message_delivered": ""})
    assert "Thank you for shopping with Test Shop!" in page_text(response)


def test_preview_of_an_unknown_message_is_404(owner):
    assert owner.post("/admin/settings/messages/birthday/preview", data={}).status_code == 404


def test_preview_button_without_javascript_shows_previews_and_saves_nothing(app, owner):
    own = "Karibu {customer_name}! Order {reference} confirmed."
    messages = {name: value for name, value in FORM.items() if name.startswith("message_")}
    response = owner.post(
        "/admin/settings/messages", data={**messages, "message_confirmed": own, "preview": "confirmed"}
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Preview only: nothing is saved yet." in page
    assert "Karibu Asha Kumar! Order 7KQ2-M4XR confirmed." in page
    assert stored_settings(app).message_texts == {}


# --- who may --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "fulfilment", "viewer"])
def test_only_the_owner_may_see_or_change_settings(app, client, role):
    sign_in(client, make_staff(app, role))
    assert client.get("/admin/settings").status_code == 403
    assert client.post("/admin/settings", data=FORM).status_code == 403
    assert client.post("/admin/settings/messages/confirmed/preview", data={}).status_code == 403
    assert stored_settings(app).name != "Mama Mboga"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get("/admin/settings"), client.post("/admin/settings", data=FORM)):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")


def test_a_post_without_the_csrf_token_is_refused(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_store()
    email = make_staff(app, "owner")
    login_page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert (
        client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    )

    assert client.post("/admin/settings", data=FORM).status_code == 400
    assert client.post("/admin/settings/messages/confirmed/preview", data={"message_confirmed": "x"}).status_code == 400
    assert stored_settings(app).name == "Test Shop"

    settings_page = client.get("/admin/settings").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', settings_page).group(1)
    assert client.post("/admin/settings", data={**FORM, "csrf_token": token}).status_code == 303


# --- render_message_text, as notifications will call it -------------------------------------------------------


def test_render_message_text_fills_in_the_values_and_the_store_name(app_context):
    settings = make_store(name="Duka La Mama")
    text = render_message_text("confirmed", settings, customer_name="Asha", reference="ABCD-EFGH", total="KSh 450")
    assert text.startswith("Hi Asha, your order ABCD-EFGH from Duka La Mama is confirmed. Total: KSh 450.")


def test_a_line_whose_placeholders_are_all_empty_is_left_out(app_context):
    settings = make_store()
    values = dict(customer_name="Asha", reference="ABCD-EFGH", status_url="https://shop.example/o/x")
    without = render_message_text("shipped", settings, **values, carrier="", tracking_number=None)
    assert "Carrier" not in without and "Tracking number" not in without and "Track the parcel" not in without
    assert "Order status: https://shop.example/o/x" in without
    with_tracking = render_message_text("shipped", settings, **values, carrier="DHL", tracking_number="JD0001")
    assert "Carrier: DHL\nTracking number: JD0001\n" in with_tracking


def test_a_stored_text_that_no_longer_checks_out_falls_back_to_the_default(app_context):
    settings = make_store(message_texts={"delivered": "Broken {text"})
    assert render_message_text("delivered", settings, customer_name="Asha", reference="R") == render_text(
        "delivered", DEFAULT_MESSAGE_TEXTS["delivered"], customer_name="Asha", reference="R", store_name="Test Shop"
    )


def test_unknown_message_keys_and_bad_texts_raise_named_errors(app_context):
    settings = make_store()
    with pytest.raises(UnknownMessageKey):
        render_message_text("birthday", settings)
    with pytest.raises(InvalidMessageText):
        render_text("confirmed", "{nope}")


def test_every_default_text_is_valid_and_within_the_limit():
    for key in MESSAGE_KEYS:
        check_message_text(key, DEFAULT_MESSAGE_TEXTS[key])  # raises if a default breaks the rules


# --- sections -------------------------------------------------------------------------------------------------


def test_the_settings_page_is_one_form_per_section_each_with_its_own_save(owner):
    page = page_text(owner.get("/admin/settings"))
    sections = re.findall(r'<input type="hidden" name="section" value="(\w+)">', page)
    assert sections == ["shop", "whatsapp", "delivery", "payments", "reminders", "after_delivery"]
    assert page.count('<form method="post" action="/admin/settings#section-') == len(sections)
    assert page.count('<button type="submit" class="button primary">Save ') == len(sections)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_a_section_saves_its_own_fields_and_leaves_the_others_as_they_were(app, owner):
    response = owner.post(
        "/admin/settings", data={"section": "shop", "name": "Mama Mboga", "tagline": "", "logo_url": ""}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/settings#section-shop")
    settings = stored_settings(app)
    assert settings.name == "Mama Mboga"
    assert (settings.delivery_fee_minor, settings.currency, settings.payment_methods) == (
        5000,
        "INR",
        ["cod", "transfer"],
    )
    assert "Shop saved." in page_text(owner.get("/admin/settings"))


def test_a_section_is_checked_on_its_own_and_a_refusal_saves_nothing(app, owner):
    posted = {
        "section": "delivery",
        "delivery_fee": "12.345",
        "free_delivery_threshold": "",
        "pickup_address": "",
        "pickup_enabled": "y",
        "reservation_hours": "48",
        "max_pending_units_per_phone": "40",
    }
    response = owner.post("/admin/settings", data=posted)
    assert response.status_code == 422
    page = page_text(response)
    delivery = page.split('id="section-delivery"')[1].split("</section>")[0]
    assert "Delivery and pickup was not saved" in delivery and "Give the pickup address" in delivery
    assert "was not saved" not in page.split('id="section-delivery"')[0]  # the other sections are untouched
    assert 'value="Test Shop"' in page  # and show what is stored
    settings = stored_settings(app)
    assert (settings.delivery_fee_minor, settings.reservation_hours) == (5000, 24)


def test_an_unknown_section_is_a_bad_request(owner):
    assert owner.post("/admin/settings", data={"section": "everything", "name": "X"}).status_code == 400


def test_message_texts_have_their_own_page_and_save(app, owner):
    own = "Asante {customer_name}! Order {reference} is confirmed."
    messages = {name: value for name, value in FORM.items() if name.startswith("message_")}
    response = owner.post("/admin/settings/messages", data={**messages, "message_confirmed": own})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/settings/messages")
    settings = stored_settings(app)
    assert settings.message_texts == {"confirmed": own} and settings.name == "Test Shop"
    refused = owner.post("/admin/settings/messages", data={**messages, "message_shipped": "Sent {nope}"})
    assert refused.status_code == 422 and "{nope} is not a placeholder we know." in page_text(refused)
    assert stored_settings(app).message_texts == {"confirmed": own}
