"""The Store API: authentication, order creation and its errors, idempotency, CORS, products, OpenAPI."""

import re
import threading
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from checkout.api import keys
from checkout.extensions import db
from checkout.models import Order, ProductStatus, Variant
from checkout.models.api import IdempotencyRecord
from tests.conftest import ON_POSTGRES
from tests.factories import make_product, make_store

SHOP_SITE = "https://myshop.example"


@pytest.fixture
def api(app):
    with app.app_context():
        make_store(allowed_origins=[SHOP_SITE])
        kurta = make_product(
            "Cotton Kurta", price_minor=79900, stock=5, options=[{"Size": "M"}, {"Size": "L"}], sku="KUR"
        )
        make_product("Assam Tea", price_minor=24000, stock=10, sku="TEA")
        make_product("Old Stock", status=ProductStatus.ARCHIVED, sku="OLD")
        _, secret = keys.create_key("Shop backend", "secret")
        _, widget = keys.create_key("Widget", "widget")
        db.session.commit()
        data = {"secret": secret, "widget": widget, "kurta_id": kurta.id}
    client = app.test_client()
    data["client"] = client
    return data


def order_body(**changes):
    body = {
        "items": [{"sku": "KUR-0", "quantity": 2}, {"sku": "TEA", "quantity": 1}],
        "customer": {"name": "Asha Kumar", "phone": "098765 43210", "address": "Beth House, Kasarani, House 16"},
        "delivery": "delivery",
        "payment_method": "cod",
        "external_reference": "woo-1182",
    }
    body.update(changes)
    return body


def post_order(api, body, key="secret", **headers):
    return api["client"].post("/api/v1/orders", json=body, headers={"Authorization": f"Bearer {api[key]}", **headers})


def count_orders(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


def test_creating_an_order_returns_totals_status_and_the_whatsapp_handoff(app, api):
    response = post_order(api, order_body())
    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "pending" and order["source"] == "api" and order["external_reference"] == "woo-1182"
    assert (order["subtotal_minor"], order["delivery_fee_minor"], order["total_minor"]) == (183800, 5000, 188800)
    assert order["customer"]["phone"] == "+919876543210"
    link = urlsplit(order["whatsapp"]["app_url"])
    assert link.netloc == "wa.me" and link.path == "/919876543210" and "+" not in link.query
    text = unquote(link.query.removeprefix("text="))
    assert f"*Order {order['reference']}*" in text and "2 × Cotton Kurta (Size M)" in text
    assert order["status_url"].endswith(f"/o/{order['status_url'].rsplit('/', 1)[1]}")
    fetched = api["client"].get(
        f"/api/v1/orders/{order['reference']}", headers={"Authorization": f"Bearer {api['secret']}"}
    )
    assert fetched.status_code == 200 and fetched.get_json()["reference"] == order["reference"]


def test_items_by_product_id_and_options(app, api):
    body = order_body(items=[{"product_id": api["kurta_id"], "options": {"Size": "L"}, "quantity": 1}])
    response = post_order(api, body)
    assert response.status_code == 201
    assert response.get_json()["lines"][0]["options"] == "Size L"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"items": [{"sku": "NOPE"}]}, "items[0].sku"),
        ({"items": [{"sku": "OLD-0"}]}, "items[0]"),
        ({"items": [{"sku": "TEA", "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": 100}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": "2"}]}, "items[0].quantity"),
        ({"items": [{"sku": "TEA", "quantity": True}]}, "items[0].quantity"),
        ({"items": []}, "items"),
        ({"items": "TEA"}, "items"),
        ({"items": [{"product_id": 1, "options": {"Size": "XXL"}}]}, "items[0].options"),
        ({"items": [{"colour": "red"}]}, "items[0]"),
        ({"customer": {"name": "Asha", "phone": "12345", "address": "x"}}, "customer.phone"),
        ({"customer": {"phone": "098765 43210", "address": "x"}}, "customer.name"),
        ({"customer": {"name": "Asha", "phone": "098765 43210"}}, "customer.address"),
        ({"customer": "Asha"}, "customer"),
        ({"delivery": "drone"}, "delivery"),
        ({"payment_method": "card"}, "payment_method"),
        ({"note": "n" * 501}, "note"),
        ({"external_reference": 12}, "external_reference"),
    ],
)
def test_bad_orders_get_a_422_naming_the_field_and_create_nothing(app, api, change, field):
    response = post_order(api, order_body(**change))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    assert count_orders(app) == 0


def test_every_problem_is_reported_at_once(app, api):
    body = {"items": [{"sku": "NOPE"}, {"sku": "TEA", "quantity": -1}], "customer": {"name": "", "phone": "x"}}
    fields = post_order(api, body).get_json()["error"]["fields"]
    assert {"items[0].sku", "items[1].quantity", "customer.name", "customer.phone", "customer.address"} <= set(fields)


def test_out_of_stock_is_a_409_with_the_sku(app, api):
    response = post_order(api, order_body(items=[{"sku": "KUR-0", "quantity": 6}]))
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"KUR-0": "Only 5 available."}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"null"])
def test_bodies_that_are_not_objects_are_json_errors(app, api, raw):
    response = api["client"].post(
        "/api/v1/orders",
        data=raw,
        headers={"Authorization": f"Bearer {api['secret']}", "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422) and response.is_json
    assert set(response.get_json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer chk_wrong", "Basic abc"])
def test_without_a_valid_key_nothing_happens(app, api, header):
    headers = {"Authorization": header} if header else {}
    response = api["client"].post("/api/v1/orders", json=order_body(), headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert count_orders(app) == 0


def test_revoked_keys_stop_working(app, api):
    with app.app_context():
        keys.revoke(keys.find_active_key(api["secret"]))
        db.session.commit()
    assert post_order(api, order_body()).status_code == 401


def test_the_widget_key_creates_orders_only_from_allowed_sites(app, api):
    allowed = api["client"].post(
        "/api/v1/orders", json=order_body(), headers={"X-Chatout-Widget-Key": api["widget"], "Origin": SHOP_SITE}
    )
    assert allowed.status_code == 201 and allowed.get_json()["source"] == "website"
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP_SITE
    other = api["client"].post(
        "/api/v1/orders",
        json=order_body(),
        headers={"X-Chatout-Widget-Key": api["widget"], "Origin": "https://evil.example"},
    )
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers
    reading = api["client"].get(
        f"/api/v1/orders/{allowed.get_json()['reference']}",
        headers={"X-Chatout-Widget-Key": api["widget"], "Origin": SHOP_SITE},
    )
    assert reading.status_code == 403
    assert count_orders(app) == 1


def test_cors_preflight_answers_allowed_origins_only_and_never_a_wildcard(app, api):
    headers = {
        "Origin": SHOP_SITE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key, x-chatout-widget-key",
    }
    allowed = api["client"].options("/api/v1/orders", headers=headers)
    assert allowed.status_code in (200, 204)
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP_SITE
    assert "Idempotency-Key" in allowed.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    forbidden = api["client"].options("/api/v1/orders", headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in forbidden.headers


def test_the_same_idempotency_key_replays_the_first_answer(app, api):
    first = post_order(api, order_body(), **{"Idempotency-Key": "cart-8812"})
    again = post_order(api, order_body(), **{"Idempotency-Key": "cart-8812"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert count_orders(app) == 1


def test_the_same_key_with_another_body_is_a_422(app, api):
    post_order(api, order_body(), **{"Idempotency-Key": "cart-1"})
    response = post_order(api, order_body(note="changed"), **{"Idempotency-Key": "cart-1"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count_orders(app) == 1


def test_a_validation_error_is_replayed_too(app, api):
    body = order_body(items=[{"sku": "NOPE"}])
    assert post_order(api, body, **{"Idempotency-Key": "k"}).status_code == 422
    replay = post_order(api, body, **{"Idempotency-Key": "k"})
    assert replay.status_code == 422 and replay.headers.get("Idempotent-Replayed") == "true"


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent requests are exercised on PostgreSQL")
def test_concurrent_duplicates_make_one_order_and_the_rest_wait_or_replay(app, api):
    results, barrier = [], threading.Barrier(8)

    def attempt():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/orders",
            json=order_body(),
            headers={"Authorization": f"Bearer {api['secret']}", "Idempotency-Key": "race"},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count(201) >= 1 and set(results) <= {201, 409}
    assert count_orders(app) == 1


def test_products_are_public_active_only_and_cacheable(app, api):
    response = api["client"].get("/api/v1/products")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("public")
    names = [p["name"] for p in response.get_json()["products"]]
    assert names == ["Assam Tea", "Cotton Kurta"]
    kurta = response.get_json()["products"][1]
    assert [(v["sku"], v["price_minor"], v["available"]) for v in kurta["variants"]] == [
        ("KUR-0", 79900, 5),
        ("KUR-1", 79900, 5),
    ]
    etag = response.headers["ETag"]
    assert api["client"].get("/api/v1/products", headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        db.session.scalar(select(Variant).where(Variant.sku == "TEA-0")).price_minor = 25000
        db.session.commit()
    assert api["client"].get("/api/v1/products", headers={"If-None-Match": etag}).status_code == 200


def test_public_status_by_token_reveals_no_personal_details(app, api):
    order = post_order(api, order_body()).get_json()
    token = order["status_url"].rsplit("/", 1)[1]
    status = api["client"].get(f"/api/v1/status/{token}")
    assert status.status_code == 200
    body = status.get_json()
    assert body["reference"] == order["reference"] and body["status"] == "pending"
    assert "+919876543210" not in status.get_data(as_text=True) and "Kasarani" not in status.get_data(as_text=True)
    assert api["client"].get("/api/v1/status/not-a-token").status_code == 404


def test_widget_config_gives_the_chat_numbers(app, api):
    response = api["client"].get(f"/api/v1/widget/config?key={api['widget']}")
    assert response.status_code == 200
    config = response.get_json()
    assert config["numbers"] == ["919876543210"] and config["open_now"] is True
    assert api["client"].get(f"/api/v1/widget/config?key={api['secret']}").status_code == 401


def test_unknown_api_paths_and_methods_answer_json(app, api):
    missing = api["client"].get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = api["client"].delete("/api/v1/orders")
    assert wrong.status_code == 405 and wrong.is_json


def test_rate_limits_answer_429_in_json(app, api):
    codes = [api["client"].get("/api/v1/status/x").status_code for _ in range(121)]
    assert codes[-1] == 429
    assert api["client"].get("/api/v1/status/x").get_json()["error"]["code"] == "too_many_requests"


def test_openapi_describes_every_api_route(app, api):
    document = api["client"].get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, methods in document["paths"].items() for method in methods}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in described, f"{method} {path} missing from openapi.json"
    page = api["client"].get("/api/v1/docs").get_data(as_text=True)
    assert "POST /api/v1/orders" in page


@pytest.mark.parametrize(
    "item,field",
    [
        ({"product_id": 2**40}, "items[0].product_id"),
        ({"product_id": -3}, "items[0].product_id"),
        ({"sku": "\udab3"}, "items[0].sku"),
        ({"product_id": 1, "options": {"Size": "\ud800"}}, "items[0].options"),
    ],
)
def test_out_of_range_ids_and_broken_text_are_422s_not_500s(app, api, item, field):
    response = post_order(api, order_body(items=[item]))
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_a_name_with_a_lone_surrogate_is_refused(app, api):
    body = order_body(customer={"name": "\udab3", "phone": "098765 43210", "address": "x"})
    response = post_order(api, body)
    assert response.status_code == 422 and "customer.name" in response.get_json()["error"]["fields"]


# --- holding stock and placing orders fast ------------------------------------------------------------------------


def test_an_order_over_the_phones_pending_units_cap_is_a_422_in_the_one_error_shape(app, api):
    with app.app_context():
        make_store(allowed_origins=[SHOP_SITE], max_pending_units_per_phone=3)
    assert post_order(api, order_body()).status_code == 201  # 2 kurtas and a tea: 3 units held
    response = post_order(api, order_body(items=[{"sku": "TEA", "quantity": 1}]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "pending_units_limit"
    assert "already has 3 items in orders waiting for confirmation" in error["message"]
    assert error["fields"] == {"customer.phone": error["message"]}
    assert count_orders(app) == 1


def test_orders_for_one_phone_are_rate_limited_across_the_api_and_the_storefront(app, api):
    def tea_for(phone):
        return order_body(items=[{"sku": "TEA", "quantity": 1}], customer={**order_body()["customer"], "phone": phone})

    for phone in ["098765 43210", "+91 98765 43210", "9876543210", "+919876543210"]:
        assert post_order(api, tea_for(phone)).status_code == 201
    with app.app_context():
        tea = db.session.scalar(select(Variant).where(Variant.sku == "TEA-0")).id
    shopper = app.test_client()
    shopper.post("/cart/add", data={"variant_id": tea, "quantity": 1})
    page = shopper.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]*)"', page).group(1)
    form = {
        "name": "Asha",
        "phone": "98765 43210",
        "fulfilment": "pickup",
        "payment_method": "cod",
        "checkout_key": key,
    }
    assert shopper.post("/checkout", data=form).status_code == 303  # the fifth order for this phone

    refused = post_order(api, tea_for("+91 98765 43210"), **{"Idempotency-Key": "tea-6"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert post_order(api, tea_for("+254712345678")).status_code == 201
    # The refusal was not kept as the answer to that Idempotency-Key: retried later, it is placed.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_widget_orders_are_rate_limited_per_address_but_the_shops_own_server_is_not(app, api):
    def tea_for(index):
        return order_body(
            items=[{"sku": "TEA", "quantity": 1}],
            customer={**order_body()["customer"], "phone": f"+2547123456{index:02d}"},
        )

    widget = [post_order(api, tea_for(i), key="widget", Origin=SHOP_SITE).status_code for i in range(11)]
    assert widget == [201] * 10 + [429]
    kurta = {**tea_for(20), "items": [{"sku": "KUR-0", "quantity": 1}]}  # the ten teas are all sold
    assert post_order(api, kurta).status_code == 201  # the same address with the secret key


def test_a_quote_prices_the_cart_exactly_as_the_order_is_charged(app, api):
    items = [{"sku": "KUR-0", "quantity": 2}, {"sku": "TEA", "quantity": 1}]
    headers = {"X-Chatout-Widget-Key": api["widget"], "Origin": SHOP_SITE}
    quote = api["client"].post("/api/v1/quote", json={"items": items, "delivery": "delivery"}, headers=headers)
    assert quote.status_code == 200 and quote.headers["Access-Control-Allow-Origin"] == SHOP_SITE
    priced = quote.get_json()
    assert (priced["subtotal_minor"], priced["delivery_fee_minor"], priced["total_minor"]) == (183800, 5000, 188800)
    assert priced["total_display"] == "₹1,888.00" and priced["delivery_fee_display"] == "₹50.00"
    assert [(line["sku"], line["line_total_display"]) for line in priced["lines"]] == [
        ("KUR-0", "₹1,598.00"),
        ("TEA-0", "₹240.00"),
    ]
    order = post_order(api, order_body(items=items)).get_json()
    assert (order["subtotal_minor"], order["delivery_fee_minor"], order["total_minor"]) == (183800, 5000, 188800)
    assert (order["subtotal_display"], order["delivery_fee_display"]) == ("₹1,838.00", "₹50.00")
    pickup = api["client"].post("/api/v1/quote", json={"items": items, "delivery": "pickup"}, headers=headers)
    assert pickup.get_json()["delivery_fee_minor"] == 0 and pickup.get_json()["total_minor"] == 183800
    assert count_orders(app) == 1  # a quote places nothing


def test_a_quote_refuses_unknown_items_and_other_sites(app, api):
    headers = {"X-Chatout-Widget-Key": api["widget"], "Origin": SHOP_SITE}
    unknown = api["client"].post("/api/v1/quote", json={"items": [{"sku": "NOPE"}]}, headers=headers)
    assert unknown.status_code == 422 and "items[0].sku" in unknown.get_json()["error"]["fields"]
    archived = api["client"].post("/api/v1/quote", json={"items": [{"sku": "OLD"}]}, headers=headers)
    assert archived.status_code == 422
    other = api["client"].post(
        "/api/v1/quote", json={"items": [{"sku": "TEA"}]}, headers={**headers, "Origin": "https://evil.example"}
    )
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers


def test_widget_config_tells_another_site_why_it_is_refused_and_nothing_else(app, api):
    url = f"/api/v1/widget/config?key={api['widget']}"
    refused = api["client"].get(url, headers={"Origin": "https://elsewhere.example"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "origin_not_allowed"
    assert refused.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"  # readable there
    assert "numbers" not in refused.get_json() and "919876543210" not in refused.get_data(as_text=True)
    unknown = api["client"].get("/api/v1/widget/config?key=chw_nope", headers={"Origin": SHOP_SITE})
    assert unknown.status_code == 401 and unknown.headers["Access-Control-Allow-Origin"] == SHOP_SITE
    allowed = api["client"].get(url, headers={"Origin": SHOP_SITE})
    assert allowed.status_code == 200 and allowed.get_json()["numbers"] == ["919876543210"]
