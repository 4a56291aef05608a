"""The website widget on a shop's own site: another origin loading static/widget/chatout.js from the app.

The shop's page (tests/widget/host_page.html) is served by a second HTTP server on its own port; the
app lists that origin as allowed. The widget keeps its cart on the shop's server (the token and a copy in
localStorage), places the order from it through the Store API and hands the shopper to WhatsApp, can
continue the cart on the shop's own site, and must never break the page around it.
"""

import gzip
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from checkout import carts
from checkout.api import keys
from checkout.database import utcnow
from checkout.models import Cart, Order, Variant
from checkout.shop.working_hours import DAYS
from tests.admin_helpers import PASSWORD, make_staff
from tests.browser.conftest import MOBILE, seed_test_shop
from tests.factories import make_store
from tests.widget.host_server import HostSite

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "widget" / "chatout.js"
PAGE_TITLE = "Kurtas & Tawas — Sunrise #1"
PAGE_MESSAGE = "Hi! Is {title} in stock? 50% off & free #delivery + gift?\n{url}"
SHOP_NUMBER = "919876543210"
SVG_NAMESPACE = b"http://www.w3.org/2000/svg"
MAX_Z_INDEX = 2147483647


@pytest.fixture
def host_site():
    site = HostSite().start()
    yield site
    site.stop()


@pytest.fixture
def open_shop(serve_app, host_site):
    """`open_shop(**store_fields)` → the live app, seeded, with the host site allowed and a widget key."""

    def start(**store_fields):
        stash = {}

        def seed():
            seed_test_shop()
            make_store(**{"allowed_origins": [host_site.origin], **store_fields})
            make_staff("owner", email="owner@sunrise.example.com", name="Meera")
            _, stash["key"] = keys.create_key("Website", "widget", "test")  # the plaintext exists only now

        server = serve_app(seed)
        host_site.values.update({"__APP_URL__": server.url, "__WIDGET_KEY__": stash["key"]})
        return server

    return start


ORDER_CALLS = "**/api/v1/carts/*/order"


def shadow(page, expression: str):
    """Evaluate `expression` with `root` bound to the widget's shadow root."""
    return page.evaluate(
        f"(() => {{ const root = document.querySelector('[data-chatout]').shadowRoot; return {expression}; }})()"
    )


def events(page, kind: str) -> list:
    return page.evaluate(f"window.__events.filter(e => e.type === '{kind}').map(e => e.detail)")


def stored(page, name: str):
    return page.evaluate(f"JSON.parse(localStorage.getItem('chatout.{name}'))")


def fill_checkout(page, phone="098765 43210"):
    page.get_by_label("Your name").fill("Asha Kumar")
    page.get_by_label("WhatsApp number").fill(phone)
    page.get_by_label("Delivery address").fill("Beth House, Kasarani, House 16")


def add_two_items(page):
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    page.get_by_role("link", name="Add 2 Cast Iron Tawas to cart").click()
    expect(page.get_by_role("button", name="Your order (3)")).to_be_visible()


def count_orders(server) -> int:
    with server.database() as session:
        return session.scalar(select(func.count(Order.id)))


def test_the_script_stays_small_and_talks_to_nobody_else():
    source = SCRIPT.read_bytes()
    # 11 KB since it shows the shop's totals and falls back to a chat button without the shop; 12 KB since its
    # cart lives on the shop's server (kept in step with the page, with the shop's notes and a way to its site);
    # 13 KB since it takes discount codes and asks for consent to reminders.
    assert len(gzip.compress(source)) < 13 * 1024, f"chatout.js is {len(gzip.compress(source))} bytes gzipped"
    # The only outside address is the wa.me link it builds; every request goes to the server it came from.
    # (SVG's namespace is a name for createElementNS, never fetched.)
    assert set(re.findall(rb"https?://[a-z0-9.-]+", source.replace(SVG_NAMESPACE, b""))) == {b"https://wa.me"}


def test_shopper_adds_two_items_checks_out_and_the_order_reaches_the_admin(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(host_site.url())
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()

    add_two_items(page)
    assert page.url == host_site.url(), "the theme's add-to-cart link must not navigate"
    # Kept by the shop's server, in its words: the tawa's product SKU became its variant's.
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('chatout.cart')) || []).some(l => l.sku === 'TAW-0')"
    )
    assert stored(page, "cart") == [
        {"sku": "KUR-1", "qty": 1, "options": None},
        {"sku": "TAW-0", "qty": 2, "options": None},
    ]
    with server.database() as session:
        cart = carts.find_cart(stored(page, "token"))
        assert cart.channel == "widget" and [(line.variant.sku, line.quantity) for line in cart.lines] == [
            ("KUR-1", 1),
            ("TAW-0", 2),
        ]
    page.get_by_role("button", name="Show more products").click()  # buttons added later work too
    page.get_by_role("button", name="Add Silk Dupatta to cart").click()
    page.get_by_role("button", name="Your order (4)").click()

    drawer = page.get_by_role("dialog", name="Your order")
    expect(drawer).to_be_visible()
    assert shadow(page, "root.activeElement && root.activeElement.id") == "co-title"  # focus moved in
    expect(drawer.get_by_role("listitem")).to_have_count(3)
    expect(drawer).to_contain_text("Cotton Kurta")
    expect(drawer).to_contain_text("Size M")
    drawer.get_by_role("button", name="Remove: Silk Dupatta").click()
    expect(drawer.get_by_role("listitem")).to_have_count(2)
    fill_checkout(page)
    expect(page.get_by_label("Payment")).to_have_value("cod")
    page.get_by_role("button", name="Order on WhatsApp").click()

    expect(drawer).to_contain_text("is ready. Send it on WhatsApp to confirm.")
    created = events(page, "order-created")
    assert (
        len(created) == 1 and created[0]["currency"] == "INR" and created[0]["total_minor"] == 79900 + 2 * 89900 + 5000
    )
    reference = created[0]["reference"]
    with server.database() as session:
        order = session.scalar(select(Order).where(Order.reference == reference))
        assert (order.source, order.customer_phone, order.fulfilment) == ("website", "+919876543210", "delivery")
        assert sorted((line.sku, line.quantity) for line in order.lines) == [("KUR-1", 1), ("TAW-0", 2)]

    app_link = drawer.get_by_role("link", name="Open WhatsApp", exact=True)
    web_link = drawer.get_by_role("link", name="Open WhatsApp Web")
    for link in (app_link, web_link):
        text = parse_qs(urlsplit(link.get_attribute("href")).query)["text"][0]
        assert f"*Order {reference}*" in text and "Cotton Kurta" in text
    expect(drawer.get_by_role("link", name="Show a QR code for your phone")).to_have_attribute(
        "href", re.compile(r"/o/[^/]+/whatsapp$")
    )
    assert stored(page, "cart") is None and stored(page, "pending") is None  # cart and key both cleared
    with server.database() as session:
        ordered = session.scalar(select(Order.id).where(Order.reference == reference))
        assert session.scalar(select(Cart.order_id).where(Cart.channel == "widget")) == ordered
    assert all(url.startswith((server.url, host_site.origin)) for url in requested), requested

    admin = new_context(server).new_page()
    admin.goto("/admin/login")
    admin.get_by_label("Email").fill("owner@sunrise.example.com")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.get_by_role("link", name="Orders").first.click()
    expect(admin.get_by_role("table", name="Orders")).to_contain_text(reference)


def test_a_lost_answer_keeps_the_cart_and_retry_makes_exactly_one_order(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    fill_checkout(page)
    keys_sent = []

    def offline(route):
        keys_sent.append(route.request.headers.get("idempotency-key"))
        route.abort()

    page.route(ORDER_CALLS, offline)
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(page.get_by_role("alert")).to_contain_text("Couldn't reach the shop.")
    assert stored(page, "cart") and stored(page, "pending")["k"] == keys_sent[0]
    assert events(page, "order-failed")[-1]["retry"] is True and count_orders(server) == 0

    # Worse: the shop gets the order but the answer never comes back.
    def answer_lost(route):
        keys_sent.append(route.request.headers.get("idempotency-key"))
        route.fetch()
        route.abort()

    page.unroute(ORDER_CALLS)
    page.route(ORDER_CALLS, answer_lost)
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    assert count_orders(server) == 1 and stored(page, "cart")

    page.unroute(ORDER_CALLS)
    page.on(
        "request",
        lambda r: (
            keys_sent.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/order")
            else None
        ),
    )
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("dialog", name="Your order")).to_contain_text("is ready")
    assert count_orders(server) == 1
    assert len(set(keys_sent)) == 1 and len(keys_sent) == 3, keys_sent
    with server.database() as session:
        assert session.scalar(select(Order.reference)) == events(page, "order-created")[0]["reference"]
    assert stored(page, "cart") is None and stored(page, "pending") is None


def test_changing_the_cart_after_a_lost_answer_still_never_makes_a_second_order(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    fill_checkout(page)

    def answer_lost(route):
        route.fetch()
        route.abort()

    page.route(ORDER_CALLS, answer_lost)
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    page.unroute(ORDER_CALLS)
    assert count_orders(server) == 1

    # The shopper, thinking nothing happened, drops the tawas and orders again with the same cart's key:
    # the shop says the key was used for another request, so the widget asks for that request's answer.
    page.get_by_role("button", name="Remove: Cast Iron Tawa").click()
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(page.get_by_role("dialog", name="Your order")).to_contain_text("is ready")
    assert count_orders(server) == 1
    with server.database() as session:
        order = session.scalar(select(Order))
        assert order.reference == events(page, "order-created")[0]["reference"]
        assert len(order.lines) == 2  # the order the shop already had, not a second one
    assert stored(page, "cart") is None and stored(page, "pending") is None


def test_the_chat_button_is_a_real_link_prefilled_with_the_page(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    chat = page.get_by_role("link", name="Chat with us on WhatsApp")
    expect(chat).to_be_visible()
    text = PAGE_MESSAGE.replace("{title}", PAGE_TITLE).replace("{url}", host_site.url())
    expected = f"https://wa.me/{SHOP_NUMBER}?text={quote(text, safe='')}"
    assert chat.get_attribute("href") == expected
    assert "+" not in expected.split("?text=")[1] and "%0A" in expected and "%26" in expected and "%23" in expected
    assert chat.get_attribute("target") == "_blank" and "noopener" in chat.get_attribute("rel")
    # The page's theme (red 2rem buttons, pink outlines) doesn't reach inside the widget.
    assert shadow(page, "getComputedStyle(root.querySelector('.fab')).width") == "56px"
    assert page.evaluate("getComputedStyle(document.querySelector('[data-chatout]')).outlineStyle") == "none"
    assert events(page, "ready")[0]["open_now"] is True


def test_several_numbers_take_turns_and_the_turn_is_remembered(open_shop, host_site, new_context):
    server = open_shop(widget_numbers=["+919876543210", "+254712345678"], widget_rotation="round_robin")
    context = new_context(server)
    context.route(
        "https://wa.me/**", lambda route: route.fulfill(body="<title>WhatsApp</title>", content_type="text/html")
    )
    page = context.new_page()
    page.goto(host_site.url())
    chat = page.get_by_role("link", name="Chat with us on WhatsApp")
    expect(chat).to_be_visible()
    first = urlsplit(chat.get_attribute("href")).path
    with context.expect_page() as popup:
        chat.click()
    popup.value.close()
    expect(chat).not_to_have_attribute("href", re.compile(re.escape(first)))
    second = urlsplit(chat.get_attribute("href")).path
    assert {first, second} == {"/919876543210", "/254712345678"}
    page.reload()
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_have_attribute("href", re.compile(second))


def test_greeting_and_when_the_shop_replies_outside_working_hours(open_shop, host_site, new_context):
    tomorrow = DAYS[(utcnow() + timedelta(days=1)).weekday()]
    hours = {"timezone": "UTC", tomorrow: ["09:00", "10:00"]}  # closed now, open tomorrow morning
    server = open_shop(widget_greeting="Namaste! Ask us anything <b>here</b>.", working_hours=hours)
    page = new_context(server, timezone_id="Asia/Kolkata").new_page()
    page.goto(host_site.url())
    bubble = page.locator("[data-chatout] .bubble")
    expect(bubble).to_contain_text("Namaste! Ask us anything <b>here</b>.")  # text, never HTML
    expect(bubble).to_contain_text(re.compile(r"We'll reply from \w{3},? 2:30\s?(pm|PM)"))
    assert events(page, "ready")[0]["open_now"] is False
    page.get_by_role("button", name="Close").click()
    expect(bubble).to_be_hidden()
    page.reload()
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()
    expect(page.locator("[data-chatout] .bubble")).to_be_hidden()  # dismissed for this visit


@pytest.mark.parametrize(
    "lang,chat_label,order_label,name_label",
    [
        ("pt-BR", "Fale conosco no WhatsApp", "Seu pedido", "Seu nome"),
        ("hi", "WhatsApp पर हमसे बात करें", "आपका ऑर्डर", "आपका नाम"),
        ("sw", "Ongea nasi kwenye WhatsApp", "Oda yako", "Jina lako"),
        ("fr", "Chat with us on WhatsApp", "Your order", "Your name"),
    ],
)
def test_the_widget_speaks_the_page_language(
    open_shop, host_site, new_context, lang, chat_label, order_label, name_label
):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url(lang=lang))
    expect(page.get_by_role("link", name=chat_label)).to_be_visible()
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    page.get_by_role("button", name=f"{order_label} (1)").click()
    expect(page.get_by_role("dialog", name=order_label)).to_be_visible()
    expect(page.get_by_label(name_label)).to_be_visible()


def test_keyboard_focus_goes_into_the_drawer_stays_there_and_comes_back(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    cart = page.get_by_role("button", name="Your order (1)")
    cart.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Your order")).to_be_visible()
    assert shadow(page, "root.activeElement.id") == "co-title"
    for _ in range(15):  # round and round: never out into the page behind
        page.keyboard.press("Tab")
        assert shadow(page, "!!root.activeElement && !!root.activeElement.closest('[role=dialog]')")
    page.keyboard.press("Shift+Tab")
    assert shadow(page, "!!root.activeElement.closest('[role=dialog]')")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Your order")).to_be_hidden()
    assert shadow(page, "root.activeElement && root.activeElement.getAttribute('aria-label')") == "Your order (1)"


def test_wrong_details_are_explained_next_to_their_fields_and_keep_the_cart(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    page.get_by_role("button", name="Your order (1)").click()
    fill_checkout(page, phone="12345")
    page.get_by_label("Your name").fill("")
    page.get_by_role("button", name="Order on WhatsApp").click()
    phone = page.get_by_label("WhatsApp number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-chatout] #co-phone-e")).to_contain_text("number")
    expect(page.locator("[data-chatout] #co-name-e")).to_contain_text("required")
    expect(page.get_by_role("alert")).to_contain_text("Please check the highlighted fields.")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    assert stored(page, "pending") is None, "a refused order needs a new key next time"
    assert stored(page, "cart") and count_orders(server) == 0

    page.get_by_label("Your name").fill("Asha Kumar")
    phone.fill("98765 43210")
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(page.get_by_role("dialog", name="Your order")).to_contain_text("is ready")
    assert count_orders(server) == 1


def test_out_of_stock_is_explained_on_its_line_and_a_smaller_quantity_goes_through(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    page.evaluate("Chatout.addItem({sku: 'DUP', qty: 7, options: {Colour: 'Gold'}})")  # 5 in stock
    page.get_by_role("button", name="Your order (5)").click()  # the shop's cart holds what it has
    drawer = page.get_by_role("dialog", name="Your order")
    expect(drawer).to_contain_text("Only 5 of Silk Dupatta (Colour Gold) left: your cart has 5.")
    with server.database() as session:
        session.scalar(select(Variant).where(Variant.sku == "DUP-1")).stock_on_hand = 3
    fill_checkout(page)
    page.get_by_role("button", name="Order on WhatsApp").click()
    line = drawer.get_by_role("listitem")
    expect(line).to_contain_text("Only 3 available.")
    expect(line).to_contain_text("Colour Gold")
    assert events(page, "order-failed")[-1]["status"] == 409 and stored(page, "pending") is None
    page.get_by_label("Quantity: Silk Dupatta").fill("3")
    page.get_by_label("Quantity: Silk Dupatta").press("Enter")
    expect(page.get_by_role("button", name="Your order (3)")).to_be_attached()
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(drawer).to_contain_text("is ready")
    with server.database() as session:
        assert [(line.sku, line.quantity) for line in session.scalar(select(Order)).lines] == [("DUP-1", 3)]


def test_a_cart_started_in_the_widget_continues_on_the_shops_site(open_shop, host_site, new_context):
    server = open_shop()
    context = new_context(server)
    page = context.new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    onward = page.get_by_role("dialog", name="Your order").get_by_role("link", name="Continue on the shop's site")
    expect(onward).to_have_attribute("href", re.compile(re.escape(server.url) + r"/cart/open/[\w-]{32}$"))
    with context.expect_page() as opened:
        onward.click()
    shop = opened.value
    shop.wait_for_load_state()
    expect(shop.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(shop.get_by_label("Quantity of Cast Iron Tawa")).to_have_value("2")
    expect(shop.get_by_label("Quantity of Cotton Kurta (Size M)")).to_have_value("1")
    shop.get_by_role("button", name="One more Cast Iron Tawa").click()
    expect(shop.get_by_label("Quantity of Cast Iron Tawa")).to_have_value("3")

    page.reload()  # one cart: the widget shows what the shop's site changed
    expect(page.get_by_role("button", name="Your order (4)")).to_be_visible()
    shop.get_by_role("link", name="Checkout").click()
    shop.get_by_label("Your name").fill("Asha Kumar")
    shop.get_by_label("WhatsApp number").fill("098765 43210")
    shop.get_by_label("Delivery address").fill("Beth House, Kasarani, House 16")
    shop.get_by_role("button", name="Place order and continue on WhatsApp").click()
    expect(shop.get_by_role("heading", level=1)).to_contain_text("is reserved")
    page.reload()  # ordered on the shop's site: the widget's cart is done
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    page.wait_for_function("() => localStorage.getItem('chatout.cart') === null")
    assert page.get_by_role("button", name=re.compile("^Your order")).count() == 0


def test_a_phone_goes_straight_to_whatsapp_from_the_page(open_shop, host_site, new_context):
    server = open_shop()
    context = new_context(server, device=MOBILE)
    context.route(
        "https://wa.me/**", lambda route: route.fulfill(body="<title>WhatsApp</title>", content_type="text/html")
    )
    page = context.new_page()
    page.goto(host_site.url())
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    page.get_by_role("button", name="Your order (1)").click()
    fill_checkout(page)
    page.get_by_role("button", name="Order on WhatsApp").click()
    page.wait_for_url(re.compile(rf"^https://wa\.me/{SHOP_NUMBER}\?text="))
    text = parse_qs(urlsplit(page.url).query)["text"][0]
    with server.database() as session:
        assert session.scalar(select(Order.reference)) in text


def test_the_widget_adds_only_window_chatout_and_a_bad_key_breaks_nothing(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(host_site.url())
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()
    added = page.evaluate(
        "Object.getOwnPropertyNames(window).filter(n => !window.__globalsBefore.includes(n) && !n.startsWith('__'))"
    )
    assert added == ["Chatout"]
    assert page.evaluate("Chatout.addItem({sku: 'TAW', qty: 3}).length") == 1
    assert page.evaluate("Chatout.addItem({}) === undefined")  # logged, not thrown
    [line] = page.evaluate("Chatout.cart()")  # the page's SKU until the shop answers, then its variant's
    assert line["sku"] in ("TAW", "TAW-0") and line["qty"] == 3
    assert events(page, "cart-changed")[-1]["count"] == 3
    page.evaluate("Chatout.removeItem('TAW')")
    assert page.evaluate("Chatout.cart()") == []

    # Removing by the page's SKU still works once the shop has answered with its variant's SKU.
    page.evaluate("Chatout.addItem({sku: 'TAW', qty: 2})")
    page.wait_for_function("Chatout.cart().length === 1 && Chatout.cart()[0].sku === 'TAW-0'")
    [line] = page.evaluate("Chatout.addItem({sku: 'TAW', qty: 1})")  # the same product again: one line, 2 + 1
    assert line == {"sku": "TAW-0", "qty": 3, "options": None}
    page.evaluate("Chatout.removeItem('TAW')")
    assert page.evaluate("Chatout.cart()") == []

    host_site.values["__WIDGET_KEY__"] = "chw_not-a-real-key"
    page.evaluate("localStorage.setItem('chatout.cart', JSON.stringify([{sku: 'TAW', qty: 1}]))")
    page.goto(host_site.url())
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    # The last good config still gives the number to chat with; a cart that can't be ordered stays hidden.
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_have_attribute(
        "href", re.compile(rf"^https://wa\.me/{SHOP_NUMBER}\?")
    )
    assert page.get_by_role("button", name=re.compile("^Your order")).count() == 0
    assert any("widget key" in text for text in warnings), warnings
    assert page.evaluate("window.__errors") == []


def test_checkout_from_javascript_resolves_with_the_order(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    order = page.evaluate(
        """async () => {
            Chatout.addItem({sku: 'KUR', qty: 2, options: {Size: 'L'}});
            return await Chatout.checkout({name: 'Asha', phone: '+91 98765 43210', delivery: 'pickup', payment_method: 'transfer'});
        }"""
    )
    assert order["source"] == "website" and order["fulfilment"] == "pickup" and order["payment_method"] == "transfer"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("KUR-2", 2)]
    expect(page.get_by_role("dialog", name="Your order")).to_contain_text(order["reference"])
    failure = page.evaluate(
        "Chatout.addItem({sku: 'TAW'}) && Chatout.checkout({name: 'A', phone: '1'}).catch(e => ({status: e.status, fields: e.fields}))"
    )
    assert (
        failure["status"] == 422 and "customer.phone" in failure["fields"] and "customer.address" in failure["fields"]
    )
    assert count_orders(server) == 1


def test_the_admin_preview_shows_the_real_widget(open_shop, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Website plugin").click()
    preview = page.frame_locator("iframe[title='Widget preview']")
    expect(preview.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()
    page.get_by_role("button", name="Make key").click()  # the snippet comes with the shop's first key
    expect(page.locator("#embed-snippet")).to_contain_text("data-store-key=")
    page.wait_for_load_state("load")  # htmx on the new page listens before the choice is made
    page.get_by_label("Chat button only").check()
    expect(page.locator("#embed-snippet")).to_contain_text('data-mode="chat"')
    preview = page.frame_locator("iframe[title='Widget preview']")
    expect(preview.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()
    expect(preview.get_by_role("button", name=re.compile("^Add "))).to_have_count(0)


def totals_in(locator) -> dict[str, str]:
    """The drawer's totals list as {label: amount}."""
    rows = locator.locator("dl.totals div").all()
    return {row.locator("dt").inner_text(): row.locator("dd").inner_text() for row in rows}


def test_the_drawer_shows_the_shops_subtotal_delivery_and_total_before_and_after_ordering(
    open_shop, host_site, new_context
):
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    form_totals = drawer.locator("form dl.totals")
    expect(form_totals).to_contain_text("₹2,647.00")  # 799 + 2 × 899 + 50 delivery, as the shop prices it
    assert totals_in(drawer.locator("form")) == {"Subtotal": "₹2,597.00", "Delivery": "₹50.00", "Total": "₹2,647.00"}
    # Above the button that sends the order.
    assert form_totals.bounding_box()["y"] < drawer.get_by_role("button", name="Order on WhatsApp").bounding_box()["y"]

    drawer.get_by_label("Pickup").check()
    # The total, not the subtotal (₹2,597.00 too): it changes only once the drawer has repriced.
    expect(form_totals.locator("dd").last).to_have_text("₹2,597.00")
    assert totals_in(drawer.locator("form")) == {"Subtotal": "₹2,597.00", "Delivery": "₹0.00", "Total": "₹2,597.00"}
    drawer.get_by_label("Delivery", exact=True).check()
    drawer.get_by_label("Quantity: Cast Iron Tawa").fill("1")
    drawer.get_by_label("Quantity: Cast Iron Tawa").press("Enter")
    expect(form_totals).to_contain_text("₹1,748.00")  # 799 + 899 + 50

    fill_checkout(page)
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(drawer).to_contain_text("is ready. Send it on WhatsApp to confirm.")
    with server.database() as session:
        order = session.scalar(select(Order))
        assert (order.subtotal_minor, order.delivery_fee_minor, order.total_minor) == (169800, 5000, 174800)
    charged = totals_in(drawer.locator("div:has(> dl.totals)").first)
    assert charged == {"Subtotal": "₹1,698.00", "Delivery": "₹50.00", "Total": "₹1,748.00"}


def test_a_quantity_being_typed_survives_the_drawer_repricing_underneath_it(open_shop, host_site, new_context):
    """A reprice that lands while the shopper edits a quantity must not reset the field or move the caret."""
    server = open_shop()
    page = new_context(server).new_page()
    page.goto(host_site.url())
    add_two_items(page)
    page.get_by_role("button", name="Your order (3)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    form_totals = drawer.locator("form dl.totals")
    expect(form_totals).to_contain_text("₹2,647.00")
    quantity = drawer.get_by_label("Quantity: Cast Iron Tawa")
    quantity.focus()
    quantity.evaluate("el => el.select()")
    # Pickup chosen without moving the focus: the drawer reprices while the field's text is selected.
    drawer.get_by_label("Pickup").evaluate("el => el.click()")
    expect(form_totals.locator("dd").last).to_have_text("₹2,597.00")
    page.keyboard.insert_text("1")
    expect(quantity).to_have_value("1")
    quantity.press("Enter")
    expect(form_totals).to_contain_text("₹1,698.00")  # 799 + 899, picked up


def test_on_a_site_that_is_not_allowed_the_widget_is_a_working_chat_button_and_says_why(
    open_shop, host_site, new_context
):
    server = open_shop(allowed_origins=["https://the-real-shop.example"])
    context = new_context(server)
    context.route(
        "https://wa.me/**", lambda route: route.fulfill(body="<title>WhatsApp</title>", content_type="text/html")
    )
    page = context.new_page()
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.goto(host_site.url(phone="91 98765 43210"))
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    chat = page.get_by_role("link", name="Chat with us on WhatsApp")
    expect(chat).to_have_attribute("href", re.compile(rf"^https://wa\.me/{SHOP_NUMBER}\?text="))
    assert any(host_site.origin in text and "allowed sites" in text for text in warnings), warnings

    # The page's add-to-cart buttons start a chat instead of filling a cart nobody can order.
    with context.expect_page() as chat_tab:
        page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    assert chat_tab.value.url.startswith(f"https://wa.me/{SHOP_NUMBER}?text=")
    assert page.get_by_role("button", name=re.compile("^Your order")).count() == 0
    page.evaluate("Chatout.open()")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate("Chatout.checkout({name: 'A', phone: '1'}).catch(e => e.message)").startswith("no cart here")
    assert page.locator("[data-chatout] .notice").is_hidden()  # the on-screen note is for the shop's preview
    assert page.evaluate("window.__errors") == [] and count_orders(server) == 0


def test_when_the_shop_is_down_the_last_good_number_still_chats_and_the_cart_waits(open_shop, host_site, new_context):
    server = open_shop(widget_numbers=["+254712345678"])
    context = new_context(server, device=MOBILE)
    page = context.new_page()
    page.goto(host_site.url())
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_have_attribute(
        "href", re.compile(r"^https://wa\.me/254712345678\?")
    )
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    expect(page.get_by_role("button", name="Your order (1)")).to_be_visible()

    # The shop's server goes down; only the script itself still comes from the browser's cache.
    context.route(f"{server.url}/api/**", lambda route: route.abort())
    context.route(f"{server.url}/static/widget/chatout.css", lambda route: route.abort())
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.reload()
    page.wait_for_function("window.__events.some(e => e.type === 'ready')")
    chat = page.get_by_role("link", name="Chat with us on WhatsApp")
    expect(chat).to_be_visible()
    expect(chat).to_have_attribute("href", re.compile(r"^https://wa\.me/254712345678\?"))  # the cached config
    box = chat.bounding_box()
    assert box["x"] + box["width"] > 390 - 40 and box["y"] + box["height"] > 844 - 40  # still in the corner
    assert page.get_by_role("button", name=re.compile("^Your order")).count() == 0
    assert stored(page, "cart") == [{"sku": "KUR-1", "qty": 1, "options": None}]  # kept for when the shop is back
    assert any("can't reach the shop" in text for text in warnings), warnings
    assert page.evaluate("window.__errors") == []

    context.unroute(f"{server.url}/api/**")
    page.reload()
    expect(page.get_by_role("button", name="Your order (1)")).to_be_visible()


def test_the_admin_preview_shows_on_screen_why_the_widget_is_only_a_chat_button(open_shop, new_context):
    server = open_shop()
    context = new_context(server)
    context.route("**/api/v1/widget/config*", lambda route: route.abort())
    page = context.new_page()
    page.goto("/admin/login")
    page.get_by_label("Email").fill("owner@sunrise.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Website plugin").click()
    preview = page.frame_locator("iframe[title='Widget preview']")
    expect(preview.get_by_role("status")).to_contain_text("chat button only, no cart: can't reach the shop")
    expect(preview.get_by_role("button", name=re.compile("^Your order"))).to_have_count(0)


def test_the_widget_works_on_a_site_that_enforces_trusted_types(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server).new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(host_site.url(trusted_types="1"))
    assert response.headers["content-security-policy"] == "require-trusted-types-for 'script'"
    expect(page.get_by_role("link", name="Chat with us on WhatsApp")).to_be_visible()
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    page.get_by_role("button", name="Your order (1)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    expect(drawer.locator("form dl.totals")).to_contain_text("₹849.00")
    fill_checkout(page)
    page.get_by_role("button", name="Order on WhatsApp").click()
    expect(drawer).to_contain_text("is ready")
    assert page.evaluate("window.__errors") == []
    assert not [text for text in console if "Trusted" in text or "[chatout]" in text], console
    # The page really enforces it: an HTML string is refused.
    assert page.evaluate("(() => { try { document.body.innerHTML += ''; return false } catch (e) { return true } })()")


def test_the_drawer_stays_above_an_element_at_the_highest_z_index(open_shop, host_site, new_context):
    server = open_shop()
    page = new_context(server, device=MOBILE).new_page()
    page.goto(host_site.url())
    page.get_by_role("button", name="Add Cotton Kurta to cart").click()
    # A theme's sticky header at the highest z-index, added after the widget (later in the page, too).
    page.evaluate(
        f"""(() => {{
            const bar = document.createElement('div');
            bar.id = 'sticky-header';
            Object.assign(bar.style, {{position: 'fixed', top: 0, left: 0, right: 0, height: '300px',
                                      background: 'navy', zIndex: '{MAX_Z_INDEX}'}});
            document.body.append(bar);
        }})()"""
    )
    page.get_by_role("button", name="Your order (1)").click()
    drawer = page.get_by_role("dialog", name="Your order")
    expect(drawer).to_be_visible()
    close = drawer.get_by_role("button", name="Close")
    close.click(trial=True)  # waits until the drawer has finished sliding in (the button stands still)
    box = close.bounding_box()
    on_top = page.evaluate(
        f"document.elementFromPoint({box['x'] + box['width'] / 2}, {box['y'] + box['height'] / 2})"
        ".matches('[data-chatout]')"
    )
    assert on_top, "the page's header paints over the drawer"
    assert page.evaluate("document.elementFromPoint(195, 150).matches('[data-chatout]')")
    close.click()
    expect(drawer).to_be_hidden()
