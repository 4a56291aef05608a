"""What a shopper does in the browser, by roles and labels: the steps the browser tests share."""

import re
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Locator, Page, expect

ADDRESS = "Beth House, Kasarani, House 16"
PHONE_AS_TYPED = "098765 43210"  # an Indian mobile number written the local way, trunk prefix and all
PHONE_E164 = "+919876543210"
HANDOFF_PATH = re.compile(r"/o/[\w-]+/whatsapp$")
REFERENCE_HEADING = re.compile(r"^Order ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})\b")


def cart_badge(page: Page) -> Locator:
    """The item count next to "Cart" in the header."""
    return page.get_by_role("navigation", name="Main").get_by_label(re.compile(r"\bitems? in cart$"))


def open_product(page: Page, name: str) -> None:
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    # The page's scripts (the choice pills, then htmx once the page has loaded) have run: a tap now is the
    # one a shopper makes.
    wait_for_htmx(page)


def wait_for_htmx(page: Page) -> None:
    """Until htmx, which pages fetch once they have loaded, has set itself up (before, forms post whole pages)."""
    page.wait_for_load_state("load")
    # The load event injects htmx's script tag; without JavaScript there is none to wait for.
    if page.locator("script[src*='/vendor/htmx']").count():
        page.wait_for_function("() => Boolean(window.htmx)")


def option_pill(page: Page, option: str) -> Locator:
    """The choice pill for an option written as in a cart line, e.g. "Size M": value M in the group Size."""
    name, value = option.split(" ", 1)
    # The pill's name may carry a note after the value, e.g. "M (not available with this choice)".
    label = re.compile(rf"^{re.escape(value)}( \(.*\))?$")
    return page.get_by_role("group", name=name, exact=True).get_by_role("radio", name=label)


def find_in_catalog(page: Page, name: str) -> None:
    """From the catalog's first page, follow "Next page" until the product's card shows (twelve a page)."""
    card = page.get_by_role("main").get_by_role("link", name=name, exact=True)
    number = 1
    while not card.count():
        number += 1
        page.get_by_role("link", name="Next page").click()
        expect(page.get_by_text(f"Page {number} of")).to_be_visible()


def add_to_cart(page: Page, name: str, option: str | None = None, quantity: int = 1) -> None:
    """From the catalog: find the product, open it, pick the option (e.g. "Size M") and quantity, add it."""
    page.goto("/")
    find_in_catalog(page, name)
    open_product(page, name)
    if option:
        option_pill(page, option).check()
    page.get_by_label("Quantity", exact=True).fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    # HTMX shows "Added Kurta (Size M)." in place; without JavaScript the cart page flashes "Added Kurta …".
    expect(page.get_by_text(f"Added {name}")).to_be_visible()


def open_cart(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Cart\b")).click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    wait_for_htmx(page)


def cart_line(page: Page, name: str) -> Locator:
    """The cart's list item for a product (by its name)."""
    return page.get_by_role("main").get_by_role("listitem").filter(has=page.get_by_role("link", name=name))


def fill_checkout(
    page: Page,
    *,
    name: str = "Asha Kumar",
    phone: str = PHONE_AS_TYPED,
    address: str = ADDRESS,
    payment: str = "Cash on delivery",
) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("WhatsApp number").fill(phone)
    page.get_by_label("Delivery", exact=True).check()
    page.get_by_label("Delivery address").fill(address)
    page.get_by_label(payment).check()


def submit_checkout(page: Page) -> None:
    page.get_by_role("button", name="Place order and continue on WhatsApp").click()


def handoff_reference(page: Page) -> str:
    """The order reference from the handoff page's heading ("Order ABCD-EFGH is reserved")."""
    expect(page).to_have_url(HANDOFF_PATH)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(REFERENCE_HEADING)
    return REFERENCE_HEADING.match(heading.inner_text()).group(1)


def whatsapp_link(page: Page) -> Locator:
    return page.get_by_role("link", name="Continue on WhatsApp")


def prefilled_text(href: str) -> str:
    """The message a wa.me / WhatsApp Web link prefills, decoded."""
    query = urlsplit(href).query
    text = next(part for part in query.split("&") if part.startswith("text="))
    return unquote(text.removeprefix("text="))
