"""The admin catalog through the Flask test client: products, variants, images, stock and CSV, on a real database."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import delete, func, select

from checkout.catalog.stock import change_on_hand
from checkout.extensions import db
from checkout.models import Category, Product, StaffUser, StockMovement, Variant
from tests.factories import make_order, make_product, make_store

PASSWORD = "correct horse battery"
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(UPLOAD_FOLDER=str(tmp_path / "uploads"))


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(low_stock_threshold=5)
        kurta = make_product(
            "Cotton Kurta", price_minor=79900, stock=10, options=[{"Size": "M"}, {"Size": "L"}], category="Clothes"
        )
        kurta.variants[1].price_minor = 84900
        change_on_hand(kurta.variants[1], -7, "Stock count")
        tea = make_product("Assam Tea", price_minor=24000, stock=40, category="Tea", sku="TEA")
        draft = make_product("Winter Shawl", price_minor=150000, stock=2, status="draft")
        db.session.commit()
        ids = dict(
            kurta=kurta.id,
            kurta_m=kurta.variants[0].id,
            kurta_l=kurta.variants[1].id,
            tea=tea.id,
            tea_variant=tea.variants[0].id,
            shawl=draft.id,
            movements=db.session.scalar(select(func.count()).select_from(StockMovement)),
        )
        db.session.remove()
    return ids


def sign_in(app, client, role="manager"):
    with app.app_context():
        user = StaffUser(email=f"{role}@chatout-shop.in", name=f"{role.title()} Staff", role=role)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    response = client.post("/admin/login", data={"email": f"{role}@chatout-shop.in", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def manager(app, client):
    return sign_in(app, client, "manager")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def hidden_value(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def product_form(**changes):
    form = {
        "name": "Linen Shirt",
        "slug": "",
        "sku": "",
        "description": "Breathable linen.",
        "category": "Clothes",
        "status": "active",
        "variants-0-sku": "SHIRT-S",
        "variants-0-options": "Size=S, Colour=White",
        "variants-0-price": "1299.50",
        "variants-0-stock": "7",
        "variants-1-sku": "SHIRT-M",
        "variants-1-options": "Size=M, Colour=White",
        "variants-1-price": "1349",
        "variants-1-stock": "",
        "variants-2-sku": "",
        "variants-2-options": "",
        "variants-2-price": "",
        "variants-2-stock": "",
    }
    form.update(changes)
    return form


def parse_keywords_unchecked(text: str) -> str:
    return ", ".join(part.strip() for part in text.split(","))


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- list, search, filter


def test_product_list_shows_category_status_price_range_stock_and_low_stock(shop, manager):
    page = text_of(manager.get("/admin/products"))
    kurta_row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Cotton Kurta</a>.*?</tr>", page, re.S).group(0)
    assert "Clothes" in kurta_row and "Active" in kurta_row
    assert "₹799.00 – ₹849.00" in kurta_row
    assert "<td>13</td>" in kurta_row  # on hand: 10 + 3
    assert "Low stock (1 variant)" in kurta_row  # size L: 3 available ≤ threshold 5
    tea_row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Assam Tea</a>.*?</tr>", page, re.S).group(0)
    assert "₹240.00" in tea_row and "–" not in tea_row and "Low stock" not in tea_row


def test_available_counts_open_reservations(app, shop, manager):
    with app.app_context():
        make_order([(db.session.get(Variant, shop["tea_variant"]), 36)])
    page = text_of(manager.get("/admin/products"))
    tea_row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Assam Tea</a>.*?</tr>", page, re.S).group(0)
    assert "<td>40</td>" in tea_row  # on hand is untouched by a reservation
    assert re.search(r"<td>\s*4\s*<br><span class=\"low-stock\">Low stock</span>", tea_row)


def test_a_variant_with_nothing_left_reads_out_of_stock_not_low_stock(app, shop, manager):
    with app.app_context():
        change_on_hand(db.session.get(Variant, shop["kurta_l"]), -3, "Stock count")
        make_order([(db.session.get(Variant, shop["tea_variant"]), 40)])  # all of it held by an open order
        db.session.commit()
    page = text_of(manager.get("/admin/products"))
    kurta_row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Cotton Kurta</a>.*?</tr>", page, re.S).group(0)
    assert "Out of stock (1 variant)" in kurta_row and "Low stock" not in kurta_row
    tea_row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Assam Tea</a>.*?</tr>", page, re.S).group(0)
    assert "Out of stock" in tea_row and "Low stock" not in tea_row
    variant_page = text_of(manager.get(f"/admin/products/variants/{shop['kurta_l']}"))
    assert "Out of stock" in variant_page and "Low stock" not in variant_page
    product_page = text_of(manager.get(f"/admin/products/{shop['kurta']}"))
    assert "Out of stock" in product_page and "Low stock" not in product_page


def test_search_and_status_filter_narrow_the_list(shop, manager):
    by_name = text_of(manager.get("/admin/products?q=kurta"))
    assert "Cotton Kurta" in by_name and "Assam Tea" not in by_name
    by_variant_sku = text_of(manager.get("/admin/products?q=tea"))
    assert "Assam Tea" in by_variant_sku and "Cotton Kurta" not in by_variant_sku
    drafts = text_of(manager.get("/admin/products?status=draft"))
    assert "Winter Shawl" in drafts and "Cotton Kurta" not in drafts
    nothing = text_of(manager.get("/admin/products?q=100%25"))
    assert "No products match these filters" in nothing


def test_htmx_search_gets_only_the_results_fragment(shop, manager):
    response = manager.get("/admin/products?q=tea", headers={"HX-Request": "true"})
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="product-results"') and "<html" not in body
    assert "Assam Tea" in body and "Cotton Kurta" not in body
    assert "HX-Request" in response.headers["Vary"]
    for whole_page in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        response = manager.get("/admin/products?q=tea", headers={"HX-Request": "true", **whole_page})
        assert "<html" in text_of(response), whole_page


# ---------------------------------------------------------------- access


WRITE_ROUTES = [
    ("get", "/admin/products/new"),
    ("post", "/admin/products/new"),
    ("get", "/admin/products/{kurta}/edit"),
    ("post", "/admin/products/{kurta}/edit"),
    ("post", "/admin/products/{kurta}/archive"),
    ("post", "/admin/products/{kurta}/unarchive"),
    ("post", "/admin/products/variants/{kurta_m}/stock"),
    ("get", "/admin/products/import"),
    ("post", "/admin/products/import"),
    ("post", "/admin/products/import/apply"),
]
READ_ROUTES = [
    "/admin/products",
    "/admin/products/{kurta}",
    "/admin/products/variants/{kurta_m}",
    "/admin/products/export.csv",
]


@pytest.mark.parametrize("role", ["viewer", "fulfilment"])
def test_staff_without_edit_catalog_get_403_on_every_write_route(app, client, shop, role):
    sign_in(app, client, role)
    for method, path in WRITE_ROUTES:
        response = getattr(client, method)(path.format(**shop), data={"delta": "5", "reason": "x"})
        assert response.status_code == 403, (method, path)
    with app.app_context():
        assert db.session.get(Variant, shop["kurta_m"]).stock_on_hand == 10
        assert db.session.get(Product, shop["kurta"]).status == "active"


@pytest.mark.parametrize("role", ["viewer", "fulfilment"])
def test_staff_with_view_catalog_can_read_but_see_no_edit_controls(app, client, shop, role):
    sign_in(app, client, role)
    for path in READ_ROUTES:
        assert client.get(path.format(**shop)).status_code == 200, path
    assert "New product" not in text_of(client.get("/admin/products"))
    assert "Adjust stock" not in text_of(client.get(f"/admin/products/variants/{shop['kurta_m']}"))


def test_anonymous_visitors_are_sent_to_sign_in(client, shop):
    for path in READ_ROUTES + [path for method, path in WRITE_ROUTES if method == "get"]:
        response = client.get(path.format(**shop))
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login"), path
    for method, path in WRITE_ROUTES:
        if method == "post":
            response = client.post(path.format(**shop))
            assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login"), path


def test_a_post_without_csrf_token_is_refused_when_csrf_is_on(make_app, tmp_path):
    app = make_app(WTF_CSRF_ENABLED=True, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with app.app_context():
        make_store()
        user = StaffUser(email="owner@chatout-shop.in", name="Owner", role="owner")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    token = hidden_value(client.get("/admin/login").get_data(as_text=True), "csrf_token")
    signed_in = client.post(
        "/admin/login", data={"email": "owner@chatout-shop.in", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    response = client.post("/admin/products/new", data=product_form())
    assert response.status_code == 400
    assert count(app, Product) == 0


# ---------------------------------------------------------------- create and edit


def test_creating_a_product_with_variants(app, shop, manager):
    response = manager.post("/admin/products/new", data=product_form())
    assert response.status_code == 303
    with app.app_context():
        product = db.session.scalars(select(Product).where(Product.name == "Linen Shirt")).one()
        assert response.headers["Location"] == f"/admin/products/{product.id}"
        assert (product.slug, product.sku, product.status) == ("linen-shirt", "LINEN-SHIRT", "active")
        assert product.category.name == "Clothes"  # the existing category, not a second one
        assert [(v.sku, v.options, v.price_minor, v.stock_on_hand) for v in product.variants] == [
            ("SHIRT-S", {"Size": "S", "Colour": "White"}, 129950, 7),
            ("SHIRT-M", {"Size": "M", "Colour": "White"}, 134900, 0),
        ]
        opening = db.session.scalars(select(StockMovement).join(Variant).where(Variant.product_id == product.id)).one()
        assert (opening.variant.sku, opening.delta, opening.stock_after, opening.reason, opening.staff_name) == (
            "SHIRT-S",
            7,
            7,
            "Opening stock",
            "Manager Staff",
        )


def test_a_typed_new_category_is_created_and_a_blank_slug_is_made_unique(app, shop, manager):
    manager.post("/admin/products/new", data=product_form(category="Festive Wear"))
    second = {key: value.replace("SHIRT", "SHIRT2") for key, value in product_form(category="festive wear").items()}
    manager.post("/admin/products/new", data=second)
    with app.app_context():
        first, again = db.session.scalars(select(Product).where(Product.name == "Linen Shirt").order_by(Product.id))
        assert (first.slug, first.sku) == ("linen-shirt", "LINEN-SHIRT")
        assert (again.slug, again.sku) == ("linen-shirt-2", "LINEN-SHIRT-2")
        assert first.category.name == "Festive Wear" and again.category_id == first.category_id


def test_editing_a_product_changes_its_fields_and_adds_a_variant_without_touching_stock(app, shop, manager):
    page = text_of(manager.get(f"/admin/products/{shop['kurta']}/edit"))
    assert 'value="Size=M"' in page and 'value="799.00"' in page
    form = {
        "name": "Cotton Kurta (Classic)",
        "slug": "cotton-kurta-classic",
        "sku": "KURTA",
        "description": "Hand-loomed.",
        "category": "clothes",
        "status": "active",
        "variants-0-id": str(shop["kurta_m"]),
        "variants-0-sku": "KURTA-M",
        "variants-0-options": "Size=M",
        "variants-0-price": "899",
        "variants-0-stock": "999",  # ignored: stock of an existing variant changes only through an adjustment
        "variants-1-id": str(shop["kurta_l"]),
        "variants-1-sku": "KURTA-L",
        "variants-1-options": "Size=L",
        "variants-1-price": "849",
        "variants-2-sku": "KURTA-XL",
        "variants-2-options": "Size=XL",
        "variants-2-price": "949.00",
        "variants-2-stock": "2",
    }
    response = manager.post(f"/admin/products/{shop['kurta']}/edit", data=form)
    assert response.status_code == 303
    with app.app_context():
        product = db.session.get(Product, shop["kurta"])
        assert (product.name, product.slug, product.sku, product.category.name) == (
            "Cotton Kurta (Classic)",
            "cotton-kurta-classic",
            "KURTA",
            "Clothes",
        )
        assert [(v.sku, v.price_minor, v.stock_on_hand) for v in product.variants] == [
            ("KURTA-M", 89900, 10),
            ("KURTA-L", 84900, 3),
            ("KURTA-XL", 94900, 2),
        ]


def test_a_sku_already_used_is_a_form_error_and_nothing_is_saved(app, shop, manager):
    response = manager.post(
        "/admin/products/new", data=product_form(**{"variants-0-sku": "TEA-0", "variants-1-sku": "SHIRT-M"})
    )
    assert response.status_code == 422
    assert "The SKU “TEA-0” is already used by “Assam Tea”." in text_of(response)
    twice = manager.post("/admin/products/new", data=product_form(**{"variants-1-sku": "SHIRT-S"}))
    assert twice.status_code == 422
    assert "The SKU “SHIRT-S” is already used by another variant in this form." in text_of(twice)
    assert count(app, Product) == 3


def test_a_product_sku_or_slug_already_used_is_a_form_error(app, shop, manager):
    response = manager.post("/admin/products/new", data=product_form(sku="TEA"))
    assert response.status_code == 422
    assert "The product SKU “TEA” is already used by “Assam Tea”." in text_of(response)
    with app.app_context():
        kurta_slug = db.session.get(Product, shop["kurta"]).slug
    response = manager.post("/admin/products/new", data=product_form(slug=kurta_slug))
    assert f"The slug “{kurta_slug}” is already used by “Cotton Kurta”." in text_of(response)
    assert count(app, Product) == 3


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("12.345", "INR amounts have at most 2 decimals."),
        ("abc", "“abc” is not an amount"),
        ("1e999997", "“1e999997” is not an amount"),
        ("-5", "An amount cannot be negative."),
        ("", "Enter a price."),
    ],
)
def test_bad_prices_are_form_errors(app, shop, manager, price, message):
    response = manager.post("/admin/products/new", data=product_form(**{"variants-1-price": price}))
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert 'id="variants-1-price-error"' in page and 'aria-invalid="true"' in page
    assert count(app, Product) == 3


def test_other_variant_problems_are_reported_together(app, shop, manager):
    response = manager.post(
        "/admin/products/new",
        data=product_form(
            name="",
            **{"variants-0-options": "Size", "variants-1-stock": "lots", "variants-1-sku": "has space"},
        ),
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "Enter the product name." in page
    assert "Write options as Name=Value pairs" in page
    assert "“lots” is not a stock quantity" in page
    assert "“has space” is not a valid SKU" in page
    no_variants = manager.post(
        "/admin/products/new", data={k: v for k, v in product_form().items() if not k.startswith("variants-")}
    )
    assert "Add at least one variant" in text_of(no_variants)


def test_archive_and_unarchive_instead_of_delete(app, shop, manager):
    assert manager.post(f"/admin/products/{shop['kurta']}/archive").status_code == 303
    with app.app_context():
        assert db.session.get(Product, shop["kurta"]).status == "archived"
    assert "Cotton Kurta" not in text_of(app.test_client().get("/"))  # the shop no longer shows it
    page = text_of(manager.get("/admin/products?status=archived"))
    assert "Cotton Kurta" in page and "Low stock" not in page  # archived products are not flagged
    assert manager.post(f"/admin/products/{shop['kurta']}/unarchive").status_code == 303
    with app.app_context():
        assert db.session.get(Product, shop["kurta"]).status == "draft"
    assert count(app, Variant) == 4


# ---------------------------------------------------------------- images


def test_an_uploaded_png_is_stored_under_a_random_name_and_served_with_long_caching(app, shop, manager, tmp_path):
    response = manager.post(
        "/admin/products/new",
        data=product_form(image=(io.BytesIO(TINY_PNG), "../../photo.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.app_context():
        url = db.session.scalars(select(Product.image_url).where(Product.name == "Linen Shirt")).one()
    name = url.rsplit("/", 1)[-1]
    assert re.fullmatch(r"/admin/media/[0-9a-f]{32}\.png", url)
    assert (tmp_path / "uploads" / name).read_bytes() == TINY_PNG
    shopper = app.test_client()  # not signed in: shoppers see product images
    image = shopper.get(url)
    assert image.status_code == 200 and image.data == TINY_PNG
    assert image.mimetype == "image/png"
    assert "max-age=31536000" in image.headers["Cache-Control"] and "public" in image.headers["Cache-Control"]
    assert image.headers["X-Content-Type-Options"] == "nosniff"


def test_replacing_an_image_removes_the_old_file(app, shop, manager, tmp_path):
    def upload():
        manager.post(
            f"/admin/products/{shop['tea']}/edit",
            data={
                "name": "Assam Tea",
                "sku": "TEA",
                "status": "active",
                "variants-0-id": str(shop["tea_variant"]),
                "variants-0-sku": "TEA-0",
                "variants-0-price": "240",
                "image": (io.BytesIO(TINY_PNG), "tea.png"),
            },
            content_type="multipart/form-data",
        )
        with app.app_context():
            return db.session.get(Product, shop["tea"]).image_url.rsplit("/", 1)[-1]

    first = upload()
    second = upload()
    assert first != second
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [second]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"just some text, honest", "photo.png", "That file is not a PNG, JPEG or WebP image."),
        (TINY_PNG + b"\0" * (2 * 1024 * 1024), "huge.png", "The image is larger than 2 MB."),
    ],
)
def test_an_upload_that_is_not_a_small_image_is_refused(app, shop, manager, tmp_path, content, filename, message):
    response = manager.post(
        "/admin/products/new",
        data=product_form(image=(io.BytesIO(content), filename)),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(app, Product) == 3
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


def test_a_jpeg_and_a_webp_are_accepted_by_their_bytes(app, shop, manager):
    for content, extension in (
        (b"\xff\xd8\xff\xe0" + b"\0" * 16, "jpg"),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 8, "webp"),
    ):
        response = manager.post(
            "/admin/products/new",
            data=product_form(
                name=f"Picture {extension}",
                image=(io.BytesIO(content), "upload.bin"),
                **{
                    "variants-0-sku": f"PIC-{extension}-S",
                    "variants-1-sku": f"PIC-{extension}-M",
                },
            ),
            content_type="multipart/form-data",
        )
        assert response.status_code == 303
        with app.app_context():
            url = db.session.scalars(select(Product.image_url).where(Product.name == f"Picture {extension}")).one()
        assert url.endswith(f".{extension}")


@pytest.mark.parametrize(
    "path",
    [
        "/admin/media/0123456789abcdef0123456789abcdef.png",  # well-formed, but no such file
        "/admin/media/..",
        "/admin/media/..%2F..%2Fsecret_key",
        "/admin/media/../secret_key",
        "/admin/media/notes.txt",
        "/admin/media/0123456789ABCDEF0123456789ABCDEF.png",
    ],
)
def test_the_media_route_serves_nothing_but_stored_images(app, client, path):
    assert client.get(path).status_code == 404


# ---------------------------------------------------------------- stock adjustments


def test_stock_adjustments_write_the_ledger_newest_first(app, shop, manager):
    url = f"/admin/products/variants/{shop['kurta_m']}/stock"
    assert manager.post(url, data={"delta": "+10", "reason": "Received from supplier"}).status_code == 303
    assert manager.post(url, data={"delta": "−2", "reason": "Damaged in transit"}).status_code == 303
    with app.app_context():
        assert db.session.get(Variant, shop["kurta_m"]).stock_on_hand == 18
        movements = db.session.scalars(
            select(StockMovement).where(StockMovement.staff_user_id.is_not(None)).order_by(StockMovement.id)
        ).all()
        assert [(m.delta, m.stock_after, m.reason, m.staff_name) for m in movements] == [
            (10, 20, "Received from supplier", "Manager Staff"),
            (-2, 18, "Damaged in transit", "Manager Staff"),
        ]
        manager_id = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "manager"))
        assert {m.staff_user_id for m in movements} == {manager_id}
    page = text_of(manager.get(f"/admin/products/variants/{shop['kurta_m']}"))
    assert page.index("Damaged in transit") < page.index("Received from supplier")


def test_stock_cannot_go_below_zero(app, shop, manager):
    response = manager.post(
        f"/admin/products/variants/{shop['kurta_l']}/stock", data={"delta": "-4", "reason": "Stock count"}
    )
    assert response.status_code == 422
    assert "Only 3 on hand: removing 4 would take stock below zero." in text_of(response)
    with app.app_context():
        assert db.session.get(Variant, shop["kurta_l"]).stock_on_hand == 3
    assert count(app, StockMovement) == shop["movements"]


def test_stock_cannot_go_below_what_open_orders_reserved(app, shop, manager):
    with app.app_context():
        make_order([(db.session.get(Variant, shop["kurta_m"]), 8)])
    url = f"/admin/products/variants/{shop['kurta_m']}/stock"
    refused = manager.post(url, data={"delta": "-3", "reason": "Stock count"})
    assert refused.status_code == 422
    assert "8 unit(s) are reserved by open orders" in text_of(refused)
    assert manager.post(url, data={"delta": "-2", "reason": "Stock count"}).status_code == 303
    with app.app_context():
        assert db.session.get(Variant, shop["kurta_m"]).stock_on_hand == 8


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"delta": "5", "reason": "  "}, "Give a reason"),
        ({"delta": "0", "reason": "Count"}, "Enter a change other than 0."),
        ({"delta": "ten", "reason": "Count"}, "Enter a whole number of units"),
    ],
)
def test_an_adjustment_needs_a_reason_and_a_whole_number(app, shop, manager, data, message):
    response = manager.post(f"/admin/products/variants/{shop['kurta_m']}/stock", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(app, StockMovement) == shop["movements"]


def test_htmx_adjustment_swaps_the_stock_panel_in_place(app, shop, manager):
    url = f"/admin/products/variants/{shop['tea_variant']}/stock"
    response = manager.post(url, data={"delta": "+5", "reason": "Delivery"}, headers={"HX-Request": "true"})
    body = text_of(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="stock-panel"') and "<html" not in body
    assert '<div class="figure" id="stock-on-hand">45</div>' in body and "Delivery" in body
    refused = manager.post(url, data={"delta": "-99", "reason": "Oops"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422  # the admin's htmx config swaps 422 responses
    assert text_of(refused).lstrip().startswith('<section id="stock-panel"') and "Only 45 on hand" in text_of(refused)


# ---------------------------------------------------------------- CSV export and import


def export_rows(client) -> list[dict]:
    response = client.get("/admin/products/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def upload_csv(client, content: bytes):
    return client.post(
        "/admin/products/import",
        data={"file": (io.BytesIO(content), "catalog.csv")},
        content_type="multipart/form-data",
    )


def confirm_import(client, preview):
    page = preview.get_data(as_text=True)
    return client.post(
        "/admin/products/import/apply",
        data={"csv_data": hidden_value(page, "csv_data"), "fingerprint": hidden_value(page, "fingerprint")},
    )


def test_export_has_one_row_per_variant(shop, manager):
    rows = export_rows(manager)
    kurta = [row for row in rows if row["product_name"] == "Cotton Kurta"]
    assert [(r["variant_sku"], r["options"], r["price"], r["stock"], r["category"], r["status"]) for r in kurta] == [
        (kurta[0]["product_sku"] + "-0", "Size=M", "799.00", "10", "Clothes", "active"),
        (kurta[0]["product_sku"] + "-1", "Size=L", "849.00", "3", "Clothes", "active"),
    ]
    assert len(rows) == 4


def test_export_neutralises_formula_cells(app, shop, manager):
    with app.app_context():
        make_product('=HYPERLINK("http://evil.example","Click")', category="+Offers", sku="EVIL")
        product = db.session.scalars(select(Product).where(Product.sku == "EVIL")).one()
        product.description = "@SUM(A1:A9)"
        db.session.commit()
    row = next(row for row in export_rows(manager) if row["product_sku"] == "EVIL")
    assert row["product_name"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert row["category"] == "'+Offers"
    assert row["description"] == "'@SUM(A1:A9)"


def test_export_round_trips_through_import(app, shop, manager):
    with app.app_context():
        product = db.session.get(Product, shop["tea"])
        product.description = '=cmd|"/c calc"!A1\nSecond line, with "quotes"'
        db.session.commit()
    exported = manager.get("/admin/products/export.csv").data
    same = upload_csv(manager, exported)
    assert "Nothing to change: all 4 rows already match the catalog." in text_of(same)

    with app.app_context():  # start from an empty catalog and import the export
        for model in (StockMovement, Variant, Product, Category):
            db.session.execute(delete(model))
        db.session.commit()
    preview = upload_csv(manager, exported)
    assert preview.status_code == 200
    assert "Products: 3 to create, 0 to update" in text_of(preview)
    assert confirm_import(manager, preview).status_code == 303
    assert manager.get("/admin/products/export.csv").data == exported
    with app.app_context():
        tea = db.session.scalars(select(Product).where(Product.sku == "TEA")).one()
        assert tea.description == '=cmd|"/c calc"!A1\nSecond line, with "quotes"'
        assert {m.reason for m in db.session.scalars(select(StockMovement))} == {"CSV import"}


HEADER = "product_sku,product_name,category,status,description,variant_sku,options,price,stock"


def test_import_dry_run_reports_every_bad_line_and_writes_nothing(app, shop, manager):
    content = "\r\n".join(
        [
            HEADER,
            "NEW,New Thing,Misc,active,,NEW-1,,100.00,5",
            "NEW2,Broken price,Misc,active,,NEW2-1,,12.345,5",
            "NEW3,Word price,Misc,active,,NEW3-1,,abc,5",
            "NEW4,Negative,Misc,active,,NEW4-1,,-1,5",
            "NEW5,Bad stock,Misc,active,,NEW5-1,,10,-3",
            "NEW6,Dup,Misc,active,,NEW-1,,10,1",
            "NEW7,Bad status,Misc,selling,,NEW7-1,,10,1",
            "NEW8," + "x" * 121 + ",Misc,active,,NEW8-1,,10,1",
            "NEW9,Short row,Misc,active",
        ]
    ).encode()
    response = upload_csv(manager, content)
    page = text_of(response)
    assert response.status_code == 422
    assert "nothing was imported" in page
    for line in range(3, 11):
        assert f"Line {line}:" in page, line
    assert "Line 2:" not in page
    assert "variant_sku “NEW-1” is already used on line 2." in page
    assert "unknown status “selling”" in page
    assert 'name="csv_data"' not in page  # no way to confirm a file with problems
    assert count(app, Product) == 3 and count(app, StockMovement) == shop["movements"]


def test_a_clean_import_creates_and_updates_through_the_ledger(app, shop, manager):
    rows = export_rows(manager)
    kurta_sku = next(row["product_sku"] for row in rows if row["product_name"] == "Cotton Kurta")
    content = (
        "\ufeff"
        + "\r\n".join(
            [
                HEADER,
                f"{kurta_sku},Cotton Kurta,Clothes,active,About Cotton Kurta,{kurta_sku}-0,Size=M,899.00,14",
                "TEA,Assam Tea,Tea,active,About Assam Tea,TEA-0,,240.00,40",
                'SOAP,Neem Soap,Bath,draft,"Cold-pressed, 100 g",SOAP-1,Scent=Neem,99.5,12',
                'SOAP,Neem Soap,Bath,draft,"Cold-pressed, 100 g",SOAP-2,Scent=Rose,99.5,0',
            ]
        )
        + "\r\n"
    ).encode()
    preview = upload_csv(manager, content)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "Products: 1 to create, 0 to update" in page
    assert "Variants: 2 to create, 1 to update" in page
    assert "price: 799.00 → 899.00" in page and "stock: 10 → 14" in page
    assert count(app, Product) == 3  # the preview wrote nothing

    assert confirm_import(manager, preview).status_code == 303
    with app.app_context():
        kurta_m = db.session.get(Variant, shop["kurta_m"])
        assert (kurta_m.price_minor, kurta_m.stock_on_hand) == (89900, 14)
        soap = db.session.scalars(select(Product).where(Product.sku == "SOAP")).one()
        assert (soap.name, soap.status, soap.category.name, soap.description) == (
            "Neem Soap",
            "draft",
            "Bath",
            "Cold-pressed, 100 g",
        )
        assert [(v.sku, v.options, v.price_minor, v.stock_on_hand) for v in soap.variants] == [
            ("SOAP-1", {"Scent": "Neem"}, 9950, 12),
            ("SOAP-2", {"Scent": "Rose"}, 9950, 0),
        ]
        imported = select(StockMovement).where(StockMovement.reason == "CSV import").order_by(StockMovement.id)
        movements = db.session.scalars(imported).all()
        assert [(m.variant.sku, m.delta, m.stock_after, m.reason, m.staff_name) for m in movements] == [
            (f"{kurta_sku}-0", 4, 14, "CSV import", "Manager Staff"),
            ("SOAP-1", 12, 12, "CSV import", "Manager Staff"),
        ]


def test_an_import_is_refused_when_the_catalog_changed_after_the_preview(app, shop, manager):
    content = f"{HEADER}\nTEA,Assam Tea,Tea,active,About Assam Tea,TEA-0,,250.00,40\n".encode()
    preview = upload_csv(manager, content)
    manager.post(f"/admin/products/variants/{shop['tea_variant']}/stock", data={"delta": "+1", "reason": "Found one"})
    response = confirm_import(manager, preview)
    assert response.status_code == 409
    assert "The catalog changed since the preview" in text_of(response)
    assert "stock: 41 → 40" in text_of(response)
    with app.app_context():
        assert db.session.get(Variant, shop["tea_variant"]).price_minor == 24000
    assert confirm_import(manager, response).status_code == 303


def test_import_without_a_file_or_with_a_tampered_confirmation(app, shop, manager):
    response = manager.post("/admin/products/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CSV file to upload." in text_of(response)
    tampered = manager.post("/admin/products/import/apply", data={"csv_data": "not base64!", "fingerprint": "x"})
    assert tampered.status_code == 422 and "upload it again" in text_of(tampered)


# ---------------------------------------------------------------- keywords: other words customers use for a product


def test_keywords_typed_in_the_product_form_are_kept_tidy_and_shown(app, shop, manager):
    response = manager.post("/admin/products/new", data=product_form(keywords=" kameez ,shirt;  KAMEEZ\nकमीज़ "))
    assert response.status_code == 303
    with app.app_context():
        product = db.session.scalars(select(Product).where(Product.name == "Linen Shirt")).one()
        assert product.keywords == "kameez, shirt, कमीज़"
        product_id = product.id
    assert "kameez, shirt, कमीज़" in text_of(manager.get(f"/admin/products/{product_id}"))
    assert 'value="kameez, shirt, कमीज़"' in text_of(manager.get(f"/admin/products/{product_id}/edit"))


def test_keywords_over_the_limit_are_a_form_error_and_nothing_is_saved(app, shop, manager):
    response = manager.post("/admin/products/new", data=product_form(keywords="chai, " + "x" * 61))
    assert response.status_code == 422
    assert "A keyword can be at most 60 characters" in text_of(response)
    long_list = ",".join(f"w{number}" for number in range(120))  # under 500 as typed, over once tidied to ", "
    assert len(long_list) < 500 < len(parse_keywords_unchecked(long_list))
    response = manager.post("/admin/products/new", data=product_form(keywords=long_list))
    assert response.status_code == 422 and "Keywords can be at most 500 characters in all." in text_of(response)
    assert count(app, Product) == 3


def test_export_carries_keywords_and_an_import_with_the_column_changes_them(app, shop, manager):
    with app.app_context():
        db.session.get(Product, shop["tea"]).keywords = "chai, tea"
        db.session.commit()
    rows = export_rows(manager)
    assert list(rows[0])[-3:] == ["keywords", "kind", "duration_minutes"]  # kind and duration came after
    assert {row["keywords"] for row in rows if row["product_sku"] == "TEA"} == {"chai, tea"}
    content = (
        f'{HEADER},keywords\nTEA,Assam Tea,Tea,active,About Assam Tea,TEA-0,,240.00,40,"chai, patti, चाय"\n'
    ).encode()
    preview = upload_csv(manager, content)
    assert preview.status_code == 200
    assert "keywords: chai, tea → chai, patti, चाय" in text_of(preview)
    assert confirm_import(manager, preview).status_code == 303
    with app.app_context():
        assert db.session.get(Product, shop["tea"]).keywords == "chai, patti, चाय"


def test_a_file_without_the_keywords_column_keeps_the_products_keywords(app, shop, manager):
    with app.app_context():
        db.session.get(Product, shop["tea"]).keywords = "chai, tea"
        db.session.commit()
    content = f"{HEADER}\nTEA,Assam Tea,Tea,active,About Assam Tea,TEA-0,,250.00,40\n".encode()
    preview = upload_csv(manager, content)
    assert preview.status_code == 200 and "keywords" not in text_of(preview).split("Upload another file")[0]
    assert confirm_import(manager, preview).status_code == 303
    with app.app_context():
        tea = db.session.get(Product, shop["tea"])
        assert (tea.keywords, tea.variants[0].price_minor) == ("chai, tea", 25000)


def test_keywords_must_agree_across_a_products_rows_and_stay_within_the_limit(app, shop, manager):
    content = "\n".join(
        [
            f"{HEADER},keywords",
            "SOAP,Neem Soap,Bath,active,,SOAP-1,Scent=Neem,99,1,sabun",
            "SOAP,Neem Soap,Bath,active,,SOAP-2,Scent=Rose,99,1,soap",
            "OIL,Hair Oil,Bath,active,,OIL-1,,99,1," + "tel" * 30,
        ]
    ).encode()
    response = upload_csv(manager, content)
    page = text_of(response)
    assert response.status_code == 422
    assert "Line 3:</strong> keywords differs from line 2" in response.get_data(as_text=True).replace("&#34;", '"')
    assert "Line 4:" in page and "keywords: A keyword can be at most 60 characters" in page
