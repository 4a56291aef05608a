"""The demo shop on a 390 px phone: pictures that load, the logo and footer, the WhatsApp button, and no
page wider than the screen (the hand-off page's message preview used to make it 484 px wide)."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from checkout.demo.store import seed_demo_store
from checkout.models import Product
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import make_order

pytestmark = pytest.mark.browser

PHONE_WIDTH = MOBILE["viewport"]["width"]
PUBLIC_BASE_URL = "https://sunrise-bazaar.example"  # long status links in the message, as when deployed


@pytest.fixture
def demo(serve_app):
    return serve_app(seed_demo_store, PUBLIC_BASE_URL=PUBLIC_BASE_URL)


@pytest.fixture
def phone(new_context, demo) -> Page:
    return new_context(demo, device=MOBILE).new_page()


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def loaded(image) -> bool:
    """The picture has arrived and been decoded; waits for it (up to the browser tests' timeout) and says so."""
    image.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle(), timeout=10_000
    )
    return image.evaluate("image => image.complete && image.naturalWidth > 0")


def test_the_catalog_on_a_phone_shows_pictures_logo_and_footer(phone):
    phone.goto("/")
    expect(phone.get_by_role("heading", level=1, name="Products")).to_be_visible()
    logo = phone.get_by_role("banner").locator("img.brand-logo")
    expect(logo).to_be_visible()
    assert loaded(logo)

    # The card's picture is decorative (alt=""): the product's name is the card's heading.
    picture = phone.get_by_role("main").get_by_role("listitem").first.locator("img")
    expect(picture).to_be_visible()
    assert loaded(picture)
    # Two columns of ~173 CSS px on a 2× screen: the 480 px file, not the 800 px one.
    assert picture.evaluate("image => image.currentSrc").endswith("-480w.webp")
    assert picture.get_attribute("loading") is None  # first row: not lazy
    assert page_width(phone) == PHONE_WIDTH

    footer = phone.get_by_role("contentinfo")
    footer.scroll_into_view_if_needed()
    expect(footer).to_contain_text("Bandra West, Mumbai")
    expect(footer.get_by_role("link", name="WhatsApp +91 98765 43210")).to_be_visible()
    footer.get_by_text("Returns", exact=True).click()
    expect(footer.get_by_text("Unused items can be returned within 7 days")).to_be_visible()
    assert page_width(phone) == PHONE_WIDTH


def test_the_catalog_on_a_computer_loads_the_whole_first_row_at_once(new_context, demo):
    page = new_context(demo, device=DESKTOP).new_page()
    page.goto("/")
    cards = page.get_by_role("main").get_by_role("listitem")
    first_row = [cards.nth(index).locator("img") for index in range(4)]
    tops = {image.evaluate("image => Math.round(image.getBoundingClientRect().top)") for image in first_row}
    assert len(tops) == 1  # four columns: one row
    for image in first_row:
        assert image.get_attribute("loading") is None and loaded(image)
    assert cards.nth(4).locator("img").get_attribute("loading") == "lazy"
    expect(page.get_by_role("contentinfo").get_by_role("group")).to_have_count(2)  # Delivery, Returns


def cards_of(page: Page):
    return page.get_by_role("main").get_by_role("list").first.get_by_role("listitem")


@pytest.mark.parametrize("device", [MOBILE, DESKTOP], ids=["phone", "desktop"])
def test_the_catalog_shows_twelve_products_a_page_and_pages_on(new_context, demo, device):
    page = new_context(demo, device=device).new_page()
    page.goto("/")
    expect(cards_of(page)).to_have_count(12)
    pages = page.get_by_role("navigation", name="Catalog pages")
    expect(pages).to_contain_text("Page 1 of 2")
    expect(pages.get_by_role("link", name="Previous page")).to_have_count(0)

    pages.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(f"{demo.url}/?page=2")
    expect(cards_of(page)).to_have_count(9)  # the demo's service (a consultation) among them
    expect(page.get_by_role("link", name="Wooden Spice Box")).to_be_visible()  # the last, by name
    first_picture = cards_of(page).first.locator("img")
    assert first_picture.get_attribute("loading") is None and loaded(first_picture)
    assert page_width(page) == device["viewport"]["width"]

    page.get_by_role("navigation", name="Catalog pages").get_by_role("link", name="Previous page").click()
    expect(page).to_have_url(f"{demo.url}/")
    expect(cards_of(page)).to_have_count(12)


def test_the_catalog_fetches_htmx_only_when_the_shopper_searches(phone):
    scripts = []
    phone.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    phone.goto("/")
    assert not [url for url in scripts if "htmx" in url]
    assert phone.evaluate("() => typeof window.htmx") == "undefined"
    phone.evaluate("() => { window.__marker = 1; }")

    phone.get_by_role("searchbox", name="Search products").fill("tea")
    expect(cards_of(phone)).to_have_count(2)  # Assam Tea, Darjeeling First Flush
    expect(phone.get_by_role("link", name="Assam Tea")).to_be_visible()
    expect(phone).to_have_url(re.compile(r"[?&]q=tea\b"))  # htmx pushes the search into the address
    assert [url for url in scripts if "htmx" in url]
    assert phone.evaluate("() => window.__marker") == 1, "the page was reloaded instead of swapped"

    phone.get_by_label("Category").select_option(label="Home & Decor")
    expect(cards_of(phone)).to_have_count(0)
    expect(phone.get_by_text("No products match “tea”")).to_be_visible()
    assert phone.evaluate("() => window.__marker") == 1


def test_a_word_typed_however_the_events_fall_while_htmx_loads_is_searched_for(phone):
    """The search box's text changed with no input event seen (events raced the script): searched on arrival."""
    phone.goto("/")
    phone.evaluate("() => { document.getElementById('q').value = 'tea'; }")  # no input event fires
    phone.evaluate(
        "() => document.querySelector('form.catalog-filters').dispatchEvent(new FocusEvent('focusin', {bubbles: true}))"
    )
    expect(cards_of(phone)).to_have_count(2)  # Assam Tea, Darjeeling First Flush
    expect(phone).to_have_url(re.compile(r"[?&]q=tea\b"))


def test_the_product_page_on_a_phone_shows_its_picture(phone):
    phone.goto("/p/brass-tumbler-set")
    picture = phone.get_by_role("img", name="Brass Tumbler Set")
    expect(picture).to_be_visible()
    assert loaded(picture)
    assert picture.evaluate("image => image.getBoundingClientRect().width") > 300  # the screen's width
    assert page_width(phone) == PHONE_WIDTH


@pytest.fixture
def order_token(demo) -> str:
    with demo.database() as session:
        tea = session.scalar(select(Product).where(Product.slug == "garam-masala"))
        return make_order([(tea.variants[0], 2)]).status_token


def test_the_handoff_page_stays_phone_wide_with_the_message_open(phone, order_token):
    phone.goto(f"/o/{order_token}/whatsapp")
    button = phone.get_by_role("link", name="Continue on WhatsApp")
    expect(button).to_be_visible()
    assert button.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(0, 128, 105)"  # WhatsApp's teal
    assert loaded(button.locator("img.whatsapp-logo"))
    assert page_width(phone) == PHONE_WIDTH

    phone.get_by_text("See the message").click()
    message = phone.get_by_role("group").filter(has_text="See the message")
    expect(message).to_contain_text(f"{PUBLIC_BASE_URL}/o/{order_token}")
    assert page_width(phone) == PHONE_WIDTH


def test_the_status_page_stays_phone_wide(phone, order_token):
    phone.goto(f"/o/{order_token}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Order")
    assert page_width(phone) == PHONE_WIDTH
