"""Browser fixtures: the real app served over HTTP on a free port, driven by headless Chromium.

The server thread and the test thread share one app and one database. On SQLite every transaction
begins IMMEDIATE (one writer at a time), so the test thread never holds a session open while the
browser acts: it reads and writes only inside `live_server.database()`, which ends its transaction.
"""

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from checkout.extensions import db
from checkout.models import Category, Order, Variant
from tests.admin_helpers import PASSWORD, make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a downloaded one: `playwright install` is not part of this project.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# A computer with a mouse: wide enough for the desktop layout, with a fine pointer that can hover.
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "has_touch": False, "is_mobile": False}
# A phone: narrow, touch only, so the desktop-only QR code must stay hidden.
MOBILE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "has_touch": True,
    "is_mobile": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}

# Short waits: every page here comes from a local server, so anything slower is a failure. Ten seconds, not five:
# the suite runs one test worker per core, so Chromium shares the machine with another test's server.
TIMEOUT_MS = 10_000


def _missing_browser(reason: str) -> None:
    """Skip on a developer machine without Chromium; fail on CI, where a skip would hide the suite."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so browser tests must run)", pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveServer:
    """The app served on 127.0.0.1 at `url`; use `database()` for any work with its database."""

    app: Flask
    url: str

    @contextmanager
    def database(self) -> Iterator:
        """An app context whose session is committed and removed on the way out, releasing SQLite's lock."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


def seed_test_shop() -> None:
    """A small shop: two clothing products with options and one kitchen product without."""
    make_store(name="Test Shop", delivery_fee_minor=5000, free_delivery_threshold_minor=None)
    clothing = Category(name="Clothing", slug="clothing", position=0)
    kitchen = Category(name="Kitchen", slug="kitchen", position=1)
    make_product(
        "Cotton Kurta",
        price_minor=79900,
        stock=10,
        category=clothing,
        sku="KUR",
        options=[{"Size": "S"}, {"Size": "M"}, {"Size": "L"}],
    )
    make_product(
        "Silk Dupatta",
        price_minor=149900,
        stock=5,
        category=clothing,
        sku="DUP",
        options=[{"Colour": "Maroon"}, {"Colour": "Gold"}],
    )
    make_product("Cast Iron Tawa", price_minor=89900, stock=12, category=kitchen, sku="TAW")


MANAGER_EMAIL = "manager@sunrise.example.com"


def card_paid_tawa_order(fake_stripe: FakeStripe) -> Order:
    """In the test shop: Asha's order of one tawa, paid in full by card through Stripe (the local fake), and a
    manager, Meera, to act on it. Call inside a seed (an app context)."""
    from checkout.payments.events import process_payment_event, store_event
    from checkout.payments.stripe_checkout import StripeProvider

    seed_test_shop()
    tawa = Variant.query.filter_by(sku="TAW-0").one()
    order = make_order([(tawa, 1)], details=customer(name="Asha Kumar", payment_method="transfer"))
    make_staff("manager", email=MANAGER_EMAIL, name="Meera")
    link = StripeProvider.from_config().request(order, order.balance_minor, order.currency, reference="R1")
    event = fake_stripe.pay(link.provider_reference)
    assert process_payment_event(store_event("stripe", event.event_id, event.raw_body).id) == "paid"
    return Order.query.one()


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """Stripe's API and webhooks, faked over HTTP on 127.0.0.1 (tests/fakes/stripe_api.py)."""
    fake = FakeStripe(timeout_seconds=2)
    yield fake
    fake.close()


@pytest.fixture
def serve_app(make_app) -> Iterator[Callable[..., LiveServer]]:
    """Start the app with CSRF on, seeded by `seed()`, in a background thread; stopped after the test.

    Extra keyword arguments are app config, e.g. `serve(seed, PUBLIC_BASE_URL="https://shop.example")`.
    """
    running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def serve(seed: Callable[[], None], **config) -> LiveServer:
        app = make_app(WTF_CSRF_ENABLED=True, **config)
        with app.app_context():
            seed()
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        running.append((server, thread))
        return LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")

    yield serve
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def stripe_shop(serve_app, fake_stripe) -> Callable[[Callable[[], None]], LiveServer]:
    """Start the app like `serve_app`, with Stripe's API pointed at the local fake: `server = stripe_shop(seed)`.

    One short timeout and no retries: the fake answers at once, so a slow answer is a failure."""

    def serve(seed: Callable[[], None]) -> LiveServer:
        return serve_app(
            seed,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=fake_stripe.url,
            STRIPE_TIMEOUT=2,
            STRIPE_MAX_NETWORK_RETRIES=0,
        )

    return serve


def sign_in_as_manager(page) -> None:
    """Sign in as Meera, the manager `card_paid_tawa_order` makes, and wait for the admin navigation."""
    page.goto("/admin/login")
    page.get_by_label("Email").fill(MANAGER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()


@pytest.fixture
def live_server(serve_app) -> LiveServer:
    return serve_app(seed_test_shop)


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not CHROMIUM.exists():
        _missing_browser(f"Chromium not found at {CHROMIUM}")
    expect.set_options(timeout=TIMEOUT_MS)
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser):
    """Open a browser context on a server: `new_context(server, device=MOBILE, java_script_enabled=False)`."""
    opened = []
    refused: list[str] = []

    def note_policy_violation(message) -> None:
        # Chromium reports what the Content-Security-Policy blocked as "Refused to run/load/apply ...".
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            refused.append(f"{message.location.get('url', '')}: {message.text}")

    def open_context(server: LiveServer, device: dict = DESKTOP, **options):
        context = browser.new_context(base_url=server.url, locale="en-IN", **device, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("console", note_policy_violation)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
    if refused:
        pytest.fail("The Content-Security-Policy refused something:\n" + "\n".join(refused), pytrace=False)


@pytest.fixture
def page(new_context, live_server):
    """A desktop page in a fresh context (its own cookies, so its own cart) on the seeded test shop."""
    return new_context(live_server).new_page()
