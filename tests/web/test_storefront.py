"""Storefront pages through the Flask test client: catalog, product, cart."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from checkout import carts
from checkout.extensions import db
from checkout.models import Cart, Product, ProductStatus, Variant
from checkout.web import page_cache
from tests.factories import make_product, make_store


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store()
        kurta = make_product(
            "Cotton Kurta", price_minor=79900, options=[{"Size": "M"}, {"Size": "L"}], category="Clothing"
        )
        tea = make_product("Assam Tea", price_minor=24000, stock=0, category="Tea")
        draft = make_product("Secret Draft", status=ProductStatus.DRAFT)
        ids = dict(
            kurta_slug=kurta.slug,
            kurta_m=kurta.variants[0].id,
            kurta_l=kurta.variants[1].id,
            tea=tea.variants[0].id,
            tea_slug=tea.slug,
            draft=draft.variants[0].id,
            draft_slug=draft.slug,
            clothing=kurta.category.slug,
        )
        db.session.remove()
    return ids


def cart_in(client):
    """The lines of the cart this browser's session names, as [variant id, quantity], from the database."""
    with client.session_transaction() as session:
        token = session.get("cart", {}).get("token")
    with client.application.app_context():
        cart = carts.find_cart(token)
        return [[line.variant_id, line.quantity] for line in cart.lines] if cart else []


def test_catalog_lists_active_products_only(client, shop):
    page = client.get("/").get_data(as_text=True)
    assert "Cotton Kurta" in page and "Assam Tea" in page
    assert "Secret Draft" not in page
    assert "Sold out" in page  # the tea has no stock


def test_catalog_filters_by_category_and_search(client, shop):
    by_category = client.get(f"/?category={shop['clothing']}").get_data(as_text=True)
    assert "Cotton Kurta" in by_category and "Assam Tea" not in by_category
    by_search = client.get("/?q=assam").get_data(as_text=True)
    assert "Assam Tea" in by_search and "Cotton Kurta" not in by_search
    nothing = client.get("/?q=" + "x" * 500).get_data(as_text=True)
    assert "No products match" in nothing


def test_catalog_htmx_request_gets_only_the_results_fragment(client, shop):
    response = client.get("/?q=kurta", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and "Cotton Kurta" in body


@pytest.fixture
def long_catalog(app):
    """Fifteen teas (Tea 01 … Tea 15, in the catalog's order) and two mugs."""
    with app.app_context():
        make_store()
        tea = make_product("Tea 01", category="Tea").category
        for n in range(2, 16):
            make_product(f"Tea {n:02d}", category=tea)
        kitchen = make_product("Mug A", category="Kitchen").category
        make_product("Mug B", category=kitchen)
        tea = tea.slug
        db.session.remove()
    return tea


def card_names(page: str) -> list[str]:
    return re.findall(r'<li class="product-card">\s*<a [^>]*>.*?<h2>([^<]+)</h2>', page, re.S)


def test_the_catalog_shows_twelve_products_a_page_with_links_between_pages(client, long_catalog):
    first = client.get("/").get_data(as_text=True)
    assert card_names(first) == ["Mug A", "Mug B"] + [f"Tea {n:02d}" for n in range(1, 11)]
    assert "Page 1 of 2" in first and 'href="/?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert card_names(second) == [f"Tea {n:02d}" for n in range(11, 16)]
    assert "Page 2 of 2" in second and 'href="/" rel="prev"' in second and 'rel="next"' not in second


def test_catalog_pages_keep_the_search_and_category(client, long_catalog):
    tea = long_catalog
    first = client.get(f"/?q=tea&category={tea}").get_data(as_text=True)
    assert len(card_names(first)) == 12
    next_link = re.search(r'href="([^"]+)" rel="next"', first)[1].replace("&amp;", "&")
    assert next_link == f"/?q=tea&category={tea}&page=2"
    second = client.get(next_link).get_data(as_text=True)
    assert card_names(second) == ["Tea 13", "Tea 14", "Tea 15"]
    assert f'href="/?q=tea&amp;category={tea}" rel="prev"' in second
    # The results htmx swaps in carry their own page links.
    fragment = client.get("/?q=tea&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="results"') and "Page 2 of 2" in fragment


@pytest.mark.parametrize("asked", ["0", "-1", "two", "²", "99999999999999999999", ""])
def test_a_page_number_that_is_not_one_shows_the_first_page(client, long_catalog, asked):
    page = client.get(f"/?page={asked}")
    assert page.status_code == 200
    assert "Page 1 of 2" in page.get_data(as_text=True)


def test_a_page_past_the_last_shows_the_last(client, long_catalog):
    page = client.get("/?page=7").get_data(as_text=True)
    assert "Page 2 of 2" in page and card_names(page)[0] == "Tea 11"


def test_a_catalog_that_fits_one_page_shows_no_page_links(client, shop):
    page = client.get("/").get_data(as_text=True)
    assert "Cotton Kurta" in page and 'class="pages"' not in page


def test_a_first_visit_to_the_catalog_sets_no_cookie(client, shop):
    """Browsing needs no session: a crowd of first-time visitors costs no session signing."""
    response = client.get("/")
    assert response.status_code == 200 and "Cotton Kurta" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert "X-CSRFToken" not in response.get_data(as_text=True)


def test_a_visitor_with_a_cart_sees_their_own_badge_on_the_reused_catalog(client, shop):
    anonymous = client.application.test_client()
    assert "0 items in cart" in anonymous.get("/").get_data(as_text=True)
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 2})
    assert "2 items in cart" in client.get("/").get_data(as_text=True)
    assert "0 items in cart" in anonymous.get("/").get_data(as_text=True)


def test_the_catalog_shows_this_processes_catalog_and_stock_changes_at_once(app, client, shop):
    assert "Sold out" in client.get("/").get_data(as_text=True)
    with app.app_context():
        tea = db.session.get(Variant, shop["tea"])
        tea.stock_on_hand = 5
        kurta = db.session.scalar(select(Product).where(Product.slug == shop["kurta_slug"]))
        kurta.name = "Linen Kurta"
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Linen Kurta" in page and "Cotton Kurta" not in page and "Sold out" not in page
    fragment = client.get("/?q=kurta", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Linen Kurta" in fragment


def test_another_processes_change_shows_within_the_cache_bound(app, client, shop, monkeypatch):
    """A write the cache cannot see (another worker's) shows once STOREFRONT_CACHE_SECONDS have passed.

    The cache's clock is this test's, so a slow machine cannot expire the page between two requests."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(monotonic=lambda: clock.now))
    app.config["STOREFRONT_CACHE_SECONDS"] = 0.3
    assert "Cotton Kurta" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            text("UPDATE products SET name = 'Linen Kurta' WHERE slug = :slug"), {"slug": shop["kurta_slug"]}
        )
        db.session.commit()
    clock.now += 0.25
    assert "Cotton Kurta" in client.get("/").get_data(as_text=True)  # the rendered page is still fresh enough
    clock.now += 0.1
    assert "Linen Kurta" in client.get("/").get_data(as_text=True)


def test_every_new_visitor_gets_the_same_product_page_and_adds_to_cart_without_a_token(make_app):
    """The whole page is reused for visitors with no session: no CSRF token, no cookie. The add needs no token;
    a cross-site add is refused by its Origin (tests/web/test_cross_site_requests.py has the rest)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        kurta = make_product("Cotton Kurta", price_minor=79900, options=[{"Size": "M"}, {"Size": "L"}])
        slug, variant = kurta.slug, kurta.variants[1].id
    pages = []
    for _ in range(2):
        visitor = app.test_client()
        page = visitor.get(f"/p/{slug}")
        assert "Set-Cookie" not in page.headers and "csrf_token" not in page.get_data(as_text=True)
        pages.append(page.get_data(as_text=True))
        own_page = {"Origin": "http://localhost"}
        added = visitor.post("/cart/add", data={"variant_id": variant, "quantity": 2}, headers=own_page)
        assert added.status_code == 302
        assert "Cotton Kurta" in visitor.get("/cart").get_data(as_text=True)
    assert pages[0] == pages[1]
    stranger = app.test_client()
    refused = stranger.post("/cart/add", data={"variant_id": variant}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Cart.id))) == 2  # the two visitors' carts, none for the refusal


def test_the_checkout_still_needs_the_sessions_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        variant = make_product("Cotton Kurta", price_minor=79900).variants[0].id
    shopper = app.test_client()
    shopper.post("/cart/add", data={"variant_id": variant, "quantity": 1})
    details = {"name": "Asha", "phone": "098765 43210", "fulfilment": "delivery", "address": "Beth House"}
    assert shopper.post("/checkout", data=details | {"payment_method": "cod"}).status_code == 400


def test_a_product_taken_off_sale_is_gone_at_once(app, client, shop):
    assert client.get(f"/p/{shop['kurta_slug']}").status_code == 200
    with app.app_context():
        db.session.scalar(select(Product).where(Product.slug == shop["kurta_slug"])).status = ProductStatus.DRAFT
        db.session.commit()
    assert client.get(f"/p/{shop['kurta_slug']}").status_code == 404


def test_product_page_offers_each_option_with_price(client, shop):
    page = client.get(f"/p/{shop['kurta_slug']}").get_data(as_text=True)
    assert "Size M" in page and "Size L" in page and "₹799.00" in page


def test_draft_and_unknown_products_are_not_found(client, shop):
    assert client.get(f"/p/{shop['draft_slug']}").status_code == 404
    assert client.get("/p/no-such-thing").status_code == 404


def test_sold_out_product_cannot_be_added_from_its_page(client, shop):
    page = client.get(f"/p/{shop['tea_slug']}").get_data(as_text=True)
    assert "Sold out" in page and "Add to cart" not in page


def test_adding_the_same_item_again_merges_quantities(client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 2})
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1})
    client.post("/cart/add", data={"variant_id": shop["kurta_l"], "quantity": 1})
    assert cart_in(client) == [[shop["kurta_m"], 3], [shop["kurta_l"], 1]]
    page = client.get("/cart").get_data(as_text=True)
    assert 'aria-label="4 items in cart"' in page
    assert "₹2,397.00" in page  # 3 × 799


@pytest.mark.parametrize("quantity", ["0", "-1", "100", "abc", "", "1e3", "2.5"])
def test_bad_quantities_are_refused_and_the_cart_is_unchanged(client, shop, quantity):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1})
    response = client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": quantity})
    assert response.status_code == 302
    assert cart_in(client) == [[shop["kurta_m"], 1]]


@pytest.mark.parametrize("variant", ["999999", "abc", "", "-4"])
def test_unknown_products_are_refused(client, shop, variant):
    response = client.post("/cart/add", data={"variant_id": variant, "quantity": 1}, follow_redirects=True)
    assert response.status_code == 200
    assert cart_in(client) == []


def test_draft_product_cannot_be_added_even_by_id(client, shop):
    response = client.post("/cart/add", data={"variant_id": shop["draft"], "quantity": 1}, follow_redirects=True)
    assert "not available" in response.get_data(as_text=True)
    assert cart_in(client) == []


def test_htmx_add_returns_a_notice_and_an_out_of_band_badge(client, shop):
    response = client.post(
        "/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 2}, headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Added Cotton Kurta (Size M)" in body
    assert 'hx-swap-oob="true"' in body and ">2</span>" in body


def test_htmx_add_of_bad_input_is_a_422_fragment(client, shop):
    response = client.post(
        "/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 0}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "flash-error" in response.get_data(as_text=True)


def test_cart_quantity_change_and_removal(client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1})
    client.post("/cart/add", data={"variant_id": shop["kurta_l"], "quantity": 1})
    response = client.post(
        "/cart/update", data={"variant_id": shop["kurta_m"], "quantity": 5}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    # A stepper's answer is its own line, with the totals, the badge and the messages out of band.
    body = response.get_data(as_text=True)
    assert f'id="cart-line-{shop["kurta_m"]}"' in body and '<section id="cart"' not in body
    assert cart_in(client) == [[shop["kurta_m"], 5], [shop["kurta_l"], 1]]
    gone = client.post(
        "/cart/update", data={"variant_id": shop["kurta_l"], "quantity": 0}, headers={"HX-Request": "true"}
    )
    # A line that goes takes the whole cart with it, swapped in place of the one the stepper targets.
    assert '<section id="cart"' in gone.get_data(as_text=True) and gone.headers["HX-Retarget"] == "#cart"
    assert cart_in(client) == [[shop["kurta_m"], 5]]
    client.post("/cart/remove", data={"variant_id": shop["kurta_m"]})
    assert cart_in(client) == []
    assert client.post("/cart/update", data={"variant_id": shop["kurta_m"], "quantity": "-3"}).status_code == 302


def test_a_tampered_or_malformed_cart_is_ignored_not_an_error(client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1})
    for tampered in [
        {"token": "not-a-real-token", "key": "web:x"},
        {"token": "x" * 500},
        {"token": ["list"], "placed": "junk"},
        {"lines": [[shop["kurta_l"], 2]]},  # a cart from before carts moved to the server
        "not a cart",
    ]:
        with client.session_transaction() as session:
            session["cart"] = tampered
        page = client.get("/cart")
        assert page.status_code == 200 and "Your cart is empty" in page.get_data(as_text=True)
        assert client.get("/checkout").status_code == 302
        assert client.post("/cart/update", data={"variant_id": shop["kurta_m"], "quantity": 3}).status_code == 302
    assert client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1}).status_code == 302
    assert cart_in(client) == [[shop["kurta_m"], 1]]


def test_items_that_stop_being_sold_leave_the_cart_with_a_message(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 1})
    with app.app_context():
        db.session.get(Variant, shop["kurta_m"]).product.status = ProductStatus.ARCHIVED
        db.session.commit()
    page = client.get("/cart").get_data(as_text=True)
    assert "no longer available" in page
    assert cart_in(client) == []


def test_unknown_pages_are_friendly_404s(client, shop):
    response = client.get("/nope")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.get_data(as_text=True)
    assert client.get("/cart/add").status_code == 405


def test_product_page_offers_one_group_of_pills_per_option_over_the_plain_list(client, shop):
    page = client.get(f"/p/{shop['kurta_slug']}").get_data(as_text=True)
    # The plain list of combinations works without JavaScript; the pills choose among its radios.
    assert re.search(
        rf'name="variant_id" value="{shop["kurta_m"]}"[^>]*data-options="{{&#34;Size&#34;: &#34;M&#34;}}"', page
    )
    assert re.search(r"<div class=\"option-pickers\" data-option-pickers hidden>\s*<fieldset", page)
    assert "<legend>Size</legend>" in page
    assert 'src="/static/js/product.js"' in page


def test_cart_lines_have_steppers_and_the_cart_a_total_with_delivery(client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 2})
    page = client.get("/cart").get_data(as_text=True)
    # Without JavaScript each stepper button posts the quantity it leads to; there is no Update button.
    assert re.search(r'name="quantity" value="1"\s+aria-label="One fewer Cotton Kurta \(Size M\)"', page)
    assert re.search(r'name="quantity" value="3" aria-label="One more Cotton Kurta \(Size M\)"', page)
    assert ">Update<" not in page
    # 2 × ₹799 + the default ₹50 delivery fee
    assert re.search(r'<dt class="total-row">Total</dt><dd class="total-row total">₹1,648.00</dd>', page)
    client.post("/cart/update", data={"variant_id": shop["kurta_m"], "quantity": 3})
    assert re.search(r'name="quantity" value="2"\s+aria-label="One fewer', client.get("/cart").get_data(as_text=True))


def test_the_plus_button_rests_when_the_line_holds_all_that_is_left(client, shop, app):
    with app.app_context():
        db.session.get(Variant, shop["kurta_m"]).stock_on_hand = 2
        db.session.commit()
    client.post("/cart/add", data={"variant_id": shop["kurta_m"], "quantity": 2})
    page = client.get("/cart").get_data(as_text=True)
    assert re.search(r'value="3" aria-label="One more Cotton Kurta \(Size M\)"\s+disabled>', page)
