"""The website plugin page: API keys shown once and revocable, the sites allowed to use the widget,
its chat numbers, greeting and working hours, and the embed snippet. Owner only."""

import hashlib
import re

import pytest
from sqlalchemy import func, select

from checkout.api import keys
from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.models.api import ApiKey
from checkout.shop.website_plugin import (
    InvalidOrigin,
    embed_snippet,
    normalise_origin,
    parse_working_hours,
)
from checkout.shop.working_hours import DAYS
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_product, make_store

SITE = "https://myshop.example"
NO_HOURS = {f"{day}_{edge}": "" for day in DAYS for edge in ("opens", "closes")}
FORM = {
    "allowed_origins": SITE,
    "widget_numbers": "",
    "widget_rotation": "round_robin",
    "widget_greeting": "",
    "timezone": "",
    **NO_HOURS,
}


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
        make_staff("owner")
    assert sign_in(client, "owner@sunrise.example.com").status_code == 302
    return client


def settings_of(app):
    with app.app_context():
        settings = get_store_settings()
        return {
            "allowed_origins": settings.allowed_origins,
            "widget_numbers": settings.widget_numbers,
            "widget_rotation": settings.widget_rotation,
            "widget_greeting": settings.widget_greeting,
            "working_hours": settings.working_hours,
        }


def save(client, **changes):
    return client.post("/admin/website", data={**FORM, **changes})


def page_text(response) -> str:
    return response.get_data(as_text=True)


def api_keys(app) -> list[ApiKey]:
    with app.app_context():
        found = list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))
        db.session.expunge_all()
        return found


# ---- The page -----------------------------------------------------------------------------------------------


def test_the_page_asks_for_a_key_first_then_gives_the_snippet_and_a_live_preview(app, owner):
    response = owner.get("/admin/website")
    assert response.status_code == 200
    html = page_text(response)
    assert "Website plugin</a>" in html and 'aria-current="page">Website plugin' in html
    assert html.index("1. Make a widget key") < html.index("2. Add it to your site")
    assert 'value="Main website"' in html  # the key form is ready to submit as it is
    assert "YOUR-WIDGET-KEY" not in html and "Make a widget key first (step 1)" in html  # no snippet without a key
    assert 'title="Widget preview"' in html and "/admin/website/preview?mode=cart" in html
    for label in ("Sites allowed to use the widget", "Chat button numbers (optional)", "Monday opens", "Sunday closes"):
        assert label in html


def test_snippet_options_come_back_as_an_htmx_fragment_with_the_key_just_made(app, owner):
    made = page_text(owner.post("/admin/website/keys", data={"name": "Main website", "kind": "widget"}))
    plaintext = re.search(r'value="(chw_[A-Za-z0-9_-]{20,})"', made).group(1)
    assert f'<input type="hidden" name="key" value="{plaintext}">' in made  # the options form carries it
    response = owner.get(
        f"/admin/website?mode=chat&message=Hello+{{title}}&key={plaintext}", headers={"HX-Request": "true"}
    )
    html = page_text(response)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<section id="snippet"')
    assert f"data-store-key=&#34;{plaintext}&#34;" in html
    assert "data-mode=&#34;chat&#34;" in html and "data-message=&#34;Hello {title}&#34;" in html
    assert "Add to cart" not in html  # chat button only: no add-to-cart example
    assert "/admin/website/preview?mode=chat&amp;message=Hello+%7Btitle%7D" in html
    unknown = page_text(owner.get("/admin/website?mode=chat&key=chw_made_up", headers={"HX-Request": "true"}))
    assert "chw_made_up" not in unknown and "Make a widget key first" in unknown


def test_the_snippet_escapes_what_the_owner_types():
    snippet = embed_snippet(
        "https://shop.example/static/widget/chatout.js", "chw_abc", "chat", '"><script>x</script>\n{url}'
    )
    assert snippet == (
        '<script src="https://shop.example/static/widget/chatout.js" data-store-key="chw_abc" data-mode="chat" '
        'data-message="&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#10;{url}" async></script>'
    )
    assert 'data-store-key="YOUR-WIDGET-KEY" data-mode="cart" async' in embed_snippet("https://s.example/c.js")


def test_the_preview_loads_the_real_script_with_the_key_given_or_one_made_for_it(app, owner):
    with app.app_context():
        make_product("Cotton Kurta", sku="KUR", options=[{"Size": "M"}])
    html = page_text(owner.get("/admin/website/preview?key=chw_given&mode=cart&message=Hi"))
    assert 'src="/static/widget/chatout.js" data-store-key="chw_given" data-mode="cart" data-message="Hi"' in html
    assert 'data-chatout-add="KUR-0"' in html
    first = page_text(owner.get("/admin/website/preview?mode=chat"))
    again = page_text(owner.get("/admin/website/preview"))
    made = api_keys(app)
    assert [(k.name, k.kind) for k in made] == [("Admin preview", "widget")]  # made once, then reused
    key = re.search(r'data-store-key="(chw_[^"]+)"', first).group(1)
    assert f'data-store-key="{key}"' in again and made[0].key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert "data-chatout-add" not in first


def test_the_preview_key_is_made_once_for_the_shop_not_per_visit_or_sign_in(app, owner):
    first = page_text(owner.get("/admin/website/preview"))
    with app.app_context():
        email = make_staff("owner", email="second-owner@shop.example").email
    other = app.test_client()
    sign_in(other, email)
    again = page_text(other.get("/admin/website/preview"))
    key = re.search(r'data-store-key="(chw_[^"]+)"', first).group(1)
    assert f'data-store-key="{key}"' in again
    assert [(k.name, k.kind) for k in api_keys(app)] == [("Admin preview", "widget")]

    with app.app_context():  # the owner revoked it: the next visit makes one new key, then reuses that
        keys.revoke(keys.find_active_key(key))
        db.session.commit()
    renewed = page_text(other.get("/admin/website/preview"))
    page_text(owner.get("/admin/website/preview"))
    assert key not in renewed and [k.active for k in api_keys(app)] == [False, True]


# ---- API keys -----------------------------------------------------------------------------------------------


def test_a_new_widget_key_is_shown_once_with_its_snippet_and_only_its_hash_is_kept(app, owner):
    response = owner.post("/admin/website/keys", data={"name": "  Main   website ", "kind": "widget"})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    html = page_text(response)
    plaintext = re.search(r'value="(chw_[A-Za-z0-9_-]{20,})"', html).group(1)
    assert f"data-store-key=&#34;{plaintext}&#34;" in html  # the snippet, ready to paste
    assert f"/admin/website/preview?mode=cart&amp;key={plaintext}" in html
    assert "won't be shown again" in html

    (key,) = api_keys(app)
    assert (key.name, key.kind, key.prefix, key.created_by) == (
        "Main website",
        "widget",
        plaintext[:10],
        "owner@sunrise.example.com",
    )
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (key.name, key.prefix, key.key_hash, key.created_by)

    listing = page_text(owner.get("/admin/website"))
    assert plaintext not in listing and f"{plaintext[:10]}…" in listing and "Never" in listing
    assert owner.get(f"/api/v1/widget/config?key={plaintext}").status_code == 200


def test_a_secret_key_comes_with_a_warning_and_no_snippet(app, owner):
    html = page_text(owner.post("/admin/website/keys", data={"name": "Shop backend", "kind": "secret"}))
    assert re.search(r'value="chk_[A-Za-z0-9_-]{30,}"', html)
    assert "Never put a secret key in a web page" in html and "data-store-key" not in html


def test_an_unknown_kind_of_key_is_refused(app, owner):
    response = owner.post("/admin/website/keys", data={"name": "x", "kind": "admin"})
    assert response.status_code == 422 and api_keys(app) == []


def test_revoking_asks_first_and_then_the_api_refuses_the_key(app, owner):
    with app.app_context():
        make_store(allowed_origins=[SITE])
        key, plaintext = keys.create_key("Website", "widget", "owner")
        db.session.commit()
        key_id = key.id
    order = {"items": [{"sku": "NOPE"}], "customer": {"name": "A", "phone": "9876543210", "address": "x"}}
    headers = {"X-Chatout-Widget-Key": plaintext, "Origin": SITE}
    assert owner.post("/api/v1/orders", json=order, headers=headers).status_code == 422  # the key works

    confirm = owner.get(f"/admin/website/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke “Website”?" in page_text(confirm)
    assert api_keys(app)[0].revoked_at is None  # asking changes nothing

    response = owner.post(f"/admin/website/keys/{key_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/website#keys-heading")
    revoked_at = api_keys(app)[0].revoked_at
    assert revoked_at is not None
    assert owner.post("/api/v1/orders", json=order, headers=headers).status_code == 401
    assert owner.get(f"/api/v1/widget/config?key={plaintext}").status_code == 401
    assert "Revoked" in page_text(owner.get("/admin/website"))
    assert owner.post(f"/admin/website/keys/{key_id}/revoke").status_code == 303
    assert api_keys(app)[0].revoked_at == revoked_at  # a second revoke keeps the first date
    assert "already revoked" in page_text(owner.get(f"/admin/website/keys/{key_id}/revoke"))


def test_revoking_a_key_that_does_not_exist_is_a_404(app, owner):
    assert owner.post("/admin/website/keys/999/revoke").status_code == 404


def test_forms_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_store()
        make_staff("owner")

    def token(path):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page_text(client.get(path))).group(1)

    login = {"email": "owner@sunrise.example.com", "password": "correct horse battery"}
    assert client.post("/admin/login", data={**login, "csrf_token": token("/admin/login")}).status_code == 302
    assert client.post("/admin/website/keys", data={"kind": "widget"}).status_code == 400
    assert api_keys(app) == []
    created = client.post("/admin/website/keys", data={"kind": "widget", "csrf_token": token("/admin/website")})
    assert created.status_code == 201 and len(api_keys(app)) == 1


# ---- Allowed origins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed,origin",
    [
        ("https://myshop.example", "https://myshop.example"),
        ("  HTTPS://MyShop.Example:443/ ", "https://myshop.example"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://shop.example:80", "http://shop.example"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_written_the_way_browsers_send_them(typed, origin):
    assert normalise_origin(typed) == origin


@pytest.mark.parametrize(
    "typed,reason",
    [
        ("myshop.example", "Start with https://"),
        ("https://myshop.example/shop", "without a path: https://myshop.example"),
        ("https://myshop.example/?utm=1", "without a path"),
        ("https://myshop.example#top", "without a path"),
        ("*", "wildcard"),
        ("ftp://myshop.example", "Only http:// and https://"),
        ("https://user:secret@myshop.example", "user name or password"),
        ("https://myshop.example:99999", "port"),
        ("https://my shop.example", "no spaces"),
        ("https://shop..example", "not a valid host name"),
        ("https://-shop.example", "not a valid host name"),
        ("https://", "host name"),
        ("null", "Start with https://"),
    ],
)
def test_what_is_not_an_origin_is_refused_with_a_reason(typed, reason):
    with pytest.raises(InvalidOrigin, match=re.escape(reason)):
        normalise_origin(typed)


def test_allowed_origins_are_saved_normalised_and_deduplicated(app, owner):
    typed = "HTTPS://MyShop.Example/\n\nhttp://localhost:8000\nhttps://myshop.example:443\n"
    response = save(owner, allowed_origins=typed)
    assert response.status_code == 303
    assert settings_of(app)["allowed_origins"] == ["https://myshop.example", "http://localhost:8000"]
    assert "https://myshop.example\nhttp://localhost:8000</textarea>" in page_text(owner.get("/admin/website"))


def test_a_bad_origin_names_its_line_and_nothing_is_saved(app, owner):
    response = save(owner, allowed_origins="https://ok.example\nhttps://myshop.example/cart", widget_greeting="Hi")
    assert response.status_code == 422
    html = page_text(response)
    assert "Line 2 (https://myshop.example/cart): Give the site only, without a path: https://myshop.example" in html
    assert 'aria-invalid="true"' in html and "Some settings need fixing" in html
    assert settings_of(app)["allowed_origins"] == [] and settings_of(app)["widget_greeting"] == ""


# ---- Chat numbers, rotation, greeting -------------------------------------------------------------------------


def test_widget_numbers_are_normalised_with_the_shops_region(app, owner):
    typed = "098765 43210\n+44 7911 123456\n+91 98765-43210\n"
    assert save(owner, widget_numbers=typed, widget_rotation="random").status_code == 303
    saved = settings_of(app)
    assert saved["widget_numbers"] == ["+919876543210", "+447911123456"] and saved["widget_rotation"] == "random"
    config = owner.get("/api/v1/widget/config?key=" + _widget_key(app)).get_json()
    assert config["numbers"] == ["919876543210", "447911123456"] and config["rotation"] == "random"


def _widget_key(app) -> str:
    with app.app_context():
        _, plaintext = keys.create_key("w", "widget")
        db.session.commit()
        return plaintext


def test_a_bad_number_names_its_line(app, owner):
    response = save(owner, widget_numbers="+919876543210\n12345")
    assert response.status_code == 422 and "Line 2 (12345):" in page_text(response)
    assert settings_of(app)["widget_numbers"] == []


def test_every_problem_is_listed_at_once(app, owner):
    response = save(
        owner,
        allowed_origins="*",
        widget_numbers="nope",
        widget_rotation="shuffle",
        widget_greeting="x" * 201,
        timezone="Mars/Olympus",
        mon_opens="09:00",
    )
    html = page_text(response)
    assert response.status_code == 422
    for reason in (
        "wildcard",
        "Line 1 (nope)",
        "Choose how the numbers take turns.",
        "at most 200"[3:],
        "IANA",
        "both",
    ):
        assert reason in html, reason
    assert "Keep the greeting to 200 characters (it has 201)." in html


def test_the_greeting_is_one_tidy_line(app, owner):
    assert save(owner, widget_greeting="  Namaste!\r\n  Ask us   anything. ").status_code == 303
    assert settings_of(app)["widget_greeting"] == "Namaste! Ask us anything."


# ---- Working hours ------------------------------------------------------------------------------------------


def test_working_hours_are_saved_per_day_with_their_time_zone(app, owner):
    hours = {
        "timezone": "asia/kolkata",
        "mon_opens": "09:00",
        "mon_closes": "18:00",
        "sat_opens": "9:30",
        "sat_closes": "13:00:00",
    }
    assert save(owner, **hours).status_code == 303
    assert settings_of(app)["working_hours"] == {
        "timezone": "Asia/Kolkata",
        "mon": ["09:00", "18:00"],
        "sat": ["09:30", "13:00"],
    }
    html = page_text(owner.get("/admin/website"))
    assert 'id="mon_opens" name="mon_opens" type="time" value="09:00"' in html and 'value="Asia/Kolkata"' in html
    config = owner.get("/api/v1/widget/config?key=" + _widget_key(app)).get_json()
    assert isinstance(config["open_now"], bool) and config["next_opening"]


def test_no_hours_means_always_open(app, owner):
    assert save(owner, timezone="Africa/Nairobi").status_code == 303
    assert settings_of(app)["working_hours"] == {"timezone": "Africa/Nairobi"}
    config = owner.get("/api/v1/widget/config?key=" + _widget_key(app)).get_json()
    assert config["open_now"] is True and config["next_opening"] is None


@pytest.mark.parametrize(
    "typed,where,reason",
    [
        ({"timezone": "UTC", "mon_opens": "09:00"}, "mon", "Give both the opening and the closing time"),
        ({"timezone": "UTC", "tue_closes": "18:00"}, "tue", "Give both"),
        ({"timezone": "UTC", "wed_opens": "25:00", "wed_closes": "26:00"}, "wed", "like 09:00 or 18:30"),
        ({"timezone": "UTC", "thu_opens": "nine", "thu_closes": "five"}, "thu", "like 09:00"),
        ({"timezone": "UTC", "fri_opens": "18:00", "fri_closes": "09:00"}, "fri", "Closing must be after opening"),
        ({"timezone": "UTC", "sat_opens": "10:00", "sat_closes": "10:00"}, "sat", "after opening"),
        ({"sun_opens": "10:00", "sun_closes": "14:00"}, "timezone", "Give the time zone"),
        ({"timezone": "Asia/Bombay Time"}, "timezone", "IANA"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(app, owner, typed, where, reason):
    errors: dict = {}
    parse_working_hours(
        typed.get("timezone", ""),
        {day: (typed.get(f"{day}_opens", ""), typed.get(f"{day}_closes", "")) for day in DAYS},
        errors,
    )
    assert reason in errors[where]
    response = save(owner, **typed)
    assert response.status_code == 422 and reason in page_text(response)
    assert settings_of(app)["working_hours"] == {}


# ---- Who may use the page -----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/website"),
    ("POST", "/admin/website"),
    ("POST", "/admin/website/keys"),
    ("GET", "/admin/website/keys/1/revoke"),
    ("POST", "/admin/website/keys/1/revoke"),
    ("GET", "/admin/website/preview"),
]


@pytest.mark.parametrize("role", ["manager", "fulfilment", "viewer"])
def test_only_the_owner_may_use_the_website_plugin(app, client, role):
    with app.app_context():
        make_store()
        make_staff(role)
        keys.create_key("Website", "widget")
        db.session.commit()
    sign_in(client, f"{role}@sunrise.example.com")
    for method, path in ROUTES:
        assert client.open(path, method=method, data={**FORM, "kind": "widget"}).status_code == 403, (method, path)
    assert "Website plugin" not in page_text(client.get("/admin/"))
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiKey.id))) == 1 and get_store_settings().allowed_origins == []


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    for method, path in ROUTES:
        response = client.open(path, method=method)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"], (method, path)
