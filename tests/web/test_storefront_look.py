"""The shop's look and weight through the test client: pictures, logo, footer, head tags, compression."""

import gzip
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from checkout.demo.store import seed_demo_store
from checkout.extensions import db
from checkout.models import Product, ProductKind, ProductStatus, get_store_settings
from tests.factories import make_order, make_product, make_store
from tests.web.test_admin_settings import FORM, make_staff, sign_in

STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo_store()
        # Goods only: the demo's service (a consultation in the chat) has no picture.
        goods = select(Product.slug, Product.status).where(Product.kind == ProductKind.GOODS)
        slugs = dict(db.session.execute(goods).all())
        db.session.remove()
    return slugs


def images_in(page: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", page)


def test_every_demo_product_has_its_own_picture_in_every_width(client, demo):
    # Twenty products: twelve on the first page of the catalog, eight on the second.
    pages = [client.get(url).get_data(as_text=True) for url in ("/", "/?page=2")]
    per_page = [[tag for tag in images_in(page) if "/static/demo/" in tag and "logo" not in tag] for page in pages]
    assert [len(cards) for cards in per_page] == [12, 8]
    cards = per_page[0] + per_page[1]
    assert len(cards) == sum(status == ProductStatus.ACTIVE for status in demo.values()) == 20
    assert len({re.search(r'src="([^"]+)"', tag)[1] for tag in cards}) == 20  # no two products share one
    for tag in cards:
        assert 'width="320" height="240"' in tag
        srcset = re.search(r'srcset="([^"]+)"', tag)[1]
        candidates = [candidate.split() for candidate in srcset.split(", ")]
        assert [width for _url, width in candidates] == ["200w", "340w", "480w", "800w"]
        for url, _width in candidates:
            assert url.endswith(".webp") and (STATIC / url.removeprefix("/static/")).is_file()
            assert client.get(url).status_code == 200


def test_only_the_first_row_of_the_catalog_loads_lazily_last(client, demo):
    for url, cards_on_page in (("/", 12), ("/?page=2", 8)):
        cards = [tag for tag in images_in(client.get(url).get_data(as_text=True)) if "srcset" in tag]
        assert ["loading" in tag for tag in cards] == [False] * 4 + [True] * (cards_on_page - 4), url
        assert ['fetchpriority="high"' in tag for tag in cards[:3]] == [True, True, False], url


HEADERS_PER_RESPONSE = 600  # bytes of status line and headers, as measured on the development server


def test_the_first_catalog_page_weighs_under_40_kib_on_a_phone(client, demo):
    """What Lighthouse's phone (412 px wide at 1.75×) downloads: the page, its files and twelve 340 px pictures.
    htmx is not among them: js/catalog.js fetches it only when the shopper reaches for the filters."""
    page = client.get("/").get_data(as_text=True)
    files = re.findall(r'<(?:link rel="(?:stylesheet|icon)"|script) (?:href|src)="([^"]+)"', page)
    files += [re.search(r'src="([^"]+)"', tag)[1] for tag in images_in(page) if "srcset" not in tag]  # the logo
    files += [re.search(r"(\S+-340w\.webp) 340w", tag)[1] for tag in images_in(page) if "srcset" in tag]
    assert len(files) == 4 + 12 and not [url for url in files if "htmx" in url]
    compressed = {"Accept-Encoding": "br, gzip"}
    sizes = [len(client.get(url, headers=compressed).get_data()) for url in ["/", *files]]
    assert sum(sizes) + HEADERS_PER_RESPONSE * len(sizes) < 40 * 1024


def test_demo_pictures_stay_small(demo):
    # Twenty cards at the width a mid-range phone picks (340w) weigh under 40 KB together.
    assert sum(path.stat().st_size for path in (STATIC / "demo").glob("*-340w.webp")) < 40_000


def test_a_product_without_a_picture_shows_the_no_photo_tile(app, client):
    with app.app_context():
        make_store()
        product = make_product("Plain Mug")
        slug = product.slug
        db.session.remove()
    catalog, product_page = client.get("/").get_data(as_text=True), client.get(f"/p/{slug}").get_data(as_text=True)
    for page in (catalog, product_page):
        assert 'class="no-photo' in page and "No photo yet" in page
        assert not [tag for tag in images_in(page) if "Plain Mug" in tag or 'src=""' in tag]
    # In a card the tile is decorative, so the card's link is still named after the product alone.
    assert '<span class="no-photo" aria-hidden="true">' in catalog
    assert 'role="img" aria-label="Plain Mug: no photo yet"' in product_page


def test_the_header_shows_the_shop_logo_and_the_footer_its_contact_and_policies(client, demo):
    page = client.get("/").get_data(as_text=True)
    header = page[page.index('<header class="site-header"') : page.index("</header>")]
    assert '<img class="brand-logo" src="/static/demo/sunrise-bazaar-logo.svg"' in header
    assert client.get("/static/demo/sunrise-bazaar-logo.svg").status_code == 200
    footer = page[page.index('<footer class="site-footer"') : page.index("</footer>")]
    assert "Bandra West, Mumbai" in footer
    assert 'href="https://wa.me/919876543210"' in footer
    assert "<summary>Delivery</summary>" in footer and "3–7 working days" in footer
    assert "<summary>Returns</summary>" in footer and "within 7 days" in footer


def test_a_shop_without_logo_or_policies_shows_neither(app, client):
    with app.app_context():
        make_store(logo_url="", returns_policy="", delivery_policy="", address="")
        db.session.remove()
    page = client.get("/").get_data(as_text=True)
    assert "brand-logo" not in page and "footer-policies" not in page and "<address" not in page


@pytest.fixture
def pages(app, client, demo):
    """The six storefront pages a shopper sees, by name → address."""
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.slug == "cotton-kurta"))
        order = make_order([(product.variants[0], 1)])
        token, variant_id = order.status_token, product.variants[0].id
        db.session.remove()
    client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1})  # the checkout needs a cart
    return {
        "catalog": "/",
        "product": "/p/cotton-kurta",
        "cart": "/cart",
        "checkout": "/checkout",
        "handoff": f"/o/{token}/whatsapp",
        "status": f"/o/{token}",
    }


def test_every_storefront_page_has_a_description_icons_and_one_h1(client, pages):
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        page = response.get_data(as_text=True)
        assert re.search(r'<meta name="description" content="[^"]{20,}">', page), name
        assert '<link rel="icon" href="/static/icons/favicon.svg"' in page, name
        assert len(re.findall(r"<h1\b", page)) == 1, name


def test_htmx_is_loaded_only_by_pages_that_use_it(client, pages):
    for name, url in pages.items():
        page = client.get(url).get_data(as_text=True)
        uses_htmx = bool(re.search(r"\shx-(get|post|put|delete)=", page))
        assert ("htmx-2.0.11.min.js" in page) == uses_htmx, name
    assert "htmx-2.0.11.min.js" not in client.get(pages["checkout"]).get_data(as_text=True)


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"


def test_pages_and_scripts_go_out_compressed_when_the_browser_accepts_it(client, pages):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert "Sunrise Bazaar" in gzip.decompress(page.get_data()).decode()
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js", headers={"Accept-Encoding": "br, gzip"})
    assert htmx.headers["Content-Encoding"] in ("br", "gzip")
    assert len(htmx.get_data()) < 25_000  # 53 KB as written
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and "Sunrise Bazaar" in plain.get_data(as_text=True)


def test_owner_saves_the_shop_address_and_policies(app, client):
    with app.app_context():
        make_store()
    sign_in(client, make_staff(app, "owner"))
    form = {
        **FORM,
        "logo_url": "/static/demo/sunrise-bazaar-logo.svg",
        "address": "Stall 4\r\nWakulima Market",
        "returns_policy": "Returns within 3 days.",
        "delivery_policy": "Nairobi only.",
    }
    assert client.post("/admin/settings", data=form).status_code == 303
    with app.app_context():
        settings = get_store_settings()
        assert settings.logo_url == "/static/demo/sunrise-bazaar-logo.svg"
        assert settings.address == "Stall 4\nWakulima Market"
        assert (settings.returns_policy, settings.delivery_policy) == ("Returns within 3 days.", "Nairobi only.")
    refused = client.post("/admin/settings", data={**form, "returns_policy": "x" * 2001, "logo_url": "/a b.png"})
    page = refused.get_data(as_text=True)
    assert "Keep this to 2,000 characters." in page and "Give a path on this site" in page


def test_staff_and_token_pages_are_never_compressed(client, pages):
    """BREACH: a page holding a secret beside text a visitor controls must not reveal the secret by its size."""
    for path in ("/admin/login", pages["status"], pages["handoff"]):
        response = client.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200, path
        assert "Content-Encoding" not in response.headers, path
