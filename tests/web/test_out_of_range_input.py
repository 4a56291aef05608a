"""Numbers and JSON from outside that are too large, too long or too deep get a clear 4xx, never a 500."""

import base64
import json

import pytest
from werkzeug.routing import IntegerConverter

from checkout.api import keys
from checkout.catalog.errors import InvalidValue
from checkout.catalog.values import parse_stock, parse_stock_delta
from checkout.extensions import db
from checkout.web.integer_input import ID_MAX, parse_id, parse_whole_number
from checkout.web.json_input import MAX_DEPTH, TooDeep, check_depth
from checkout.whatsapp.webhooks import sign
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_order, make_product, make_store

TWENTY_DIGITS = "98765432109876543210"
JUST_PAST_ID_MAX = str(ID_MAX + 1)  # 2147483648
SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no
SECRET = "out-of-range-test"


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET=SECRET)


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store()
        product = make_product("Cotton Kurta", stock=20, sku="KUR")
        order = make_order([(product.variants[0], 1)])
        make_staff("owner")
        _, secret = keys.create_key("Shop backend", "secret")
        db.session.commit()
        values = {"variant_id": product.variants[0].id, "reference": order.reference, "secret": secret}
        db.session.remove()
    return values


@pytest.fixture
def owner(app, shop):
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")
    return client


def test_whole_numbers_are_parsed_only_within_their_range():
    assert parse_id("42") == 42 and parse_id(str(ID_MAX)) == ID_MAX
    for junk in (JUST_PAST_ID_MAX, TWENTY_DIGITS, "0", "-1", SUPERSCRIPT_TWO, "٣", "1e3", "", None, "9" * 5000):
        assert parse_id(junk) is None, junk
    assert parse_whole_number("0") == 0 and parse_whole_number("7", maximum=5) is None


@pytest.mark.parametrize("variant_id", [JUST_PAST_ID_MAX, TWENTY_DIGITS, "-1", SUPERSCRIPT_TWO])
def test_adding_an_out_of_range_variant_to_the_cart_is_refused(app, shop, variant_id):
    client = app.test_client()
    response = client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "not available" in response.get_data(as_text=True)
    assert client.post("/cart/update", data={"variant_id": variant_id, "quantity": 1}).status_code == 302
    assert client.post("/cart/remove", data={"variant_id": variant_id}).status_code == 302


@pytest.mark.parametrize("number", [TWENTY_DIGITS, JUST_PAST_ID_MAX, SUPERSCRIPT_TWO])
def test_admin_filters_with_huge_numbers_show_the_page(owner, number):
    cursor = base64.urlsafe_b64encode(f"{'9' * 30}.0:{TWENTY_DIGITS}".encode()).decode()
    for url in (
        f"/admin/orders?assigned={number}",
        f"/admin/orders/new?since={number}",
        f"/admin/outbox?before={number}",
        f"/admin/orders?after={cursor}",
        f"/admin/orders?after={base64.urlsafe_b64encode(f'1.0:{number}'.encode()).decode()}",
    ):
        assert owner.get(url).status_code == 200, url


def test_every_integer_route_answers_404_for_a_number_no_row_can_have(app, owner):
    """The bounded `int` converter covers every `<int:...>` route, present and future, at once."""
    int_rules = [
        r for r in app.url_map.iter_rules() if any(isinstance(c, IntegerConverter) for c in r._converters.values())
    ]
    assert any(r.rule == "/admin/products/<int:product_id>" for r in int_rules)
    for rule in int_rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = owner.open(_fill(rule), method=method)
            assert response.status_code == 404, (rule.rule, method, response.status_code)


def _fill(rule) -> str:
    """The rule's address with a 20-digit number for each integer part and "x" for any other part."""
    url = rule.rule
    for converter in rule._converters.values():
        start = url.index("<")
        end = url.index(">", start)
        url = url[:start] + (TWENTY_DIGITS if isinstance(converter, IntegerConverter) else "x") + url[end + 1 :]
    return url


def test_a_sandbox_tap_on_a_huge_message_id_is_a_clear_error(owner):
    for message in (TWENTY_DIGITS, SUPERSCRIPT_TWO):
        response = owner.post("/sandbox/chat/919876543210/tap", data={"message": message, "option": TWENTY_DIGITS})
        assert response.status_code in (400, 404), message


def test_stock_typed_with_thousands_of_digits_is_refused_with_a_message():
    for typed in ("9" * 5000, "+" + "9" * 5000, "-" + "9" * 5000):
        with pytest.raises(InvalidValue):
            parse_stock_delta(typed)
    with pytest.raises(InvalidValue):
        parse_stock("9" * 5000)
    with pytest.raises(InvalidValue):
        parse_stock("٣")


def test_json_depth_is_measured_without_recursion():
    check_depth(json.dumps({"items": [{"sku": "A", "options": {"Size": "M"}}]}))
    check_depth("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    check_depth('["' + "[" * 10_000 + '"]')  # brackets inside a string are text
    with pytest.raises(TooDeep):
        check_depth("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(TooDeep):
        check_depth(b"[" * 1_000_000)


def _api_post(app, shop, data: bytes):
    headers = {"Authorization": f"Bearer {shop['secret']}", "Content-Type": "application/json"}
    return app.test_client().post("/api/v1/orders", data=data, headers=headers)


def _is_api_error(response, status: int) -> dict:
    assert response.status_code == status and response.is_json, (response.status_code, response.data[:200])
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


def test_deeply_nested_json_to_the_store_api_is_a_json_400(app, shop):
    for depth in (MAX_DEPTH + 1, 100_000):
        error = _is_api_error(_api_post(app, shop, b"[" * depth + b"]" * depth), 400)
        assert error["code"] == "bad_json"
    nested_customer = b'{"items": [], "customer": ' + b'{"a": ' * 200_000 + b"1" + b"}" * 200_000 + b"}"
    _is_api_error(_api_post(app, shop, nested_customer), 400)


def test_a_ten_megabyte_api_body_is_a_json_413(app, shop):
    error = _is_api_error(_api_post(app, shop, b'{"items": "' + b"x" * (10 * 1024 * 1024) + b'"}'), 413)
    assert error["code"] == "too_large"


def test_other_api_errors_keep_the_json_shape(app, shop):
    client = app.test_client()
    _is_api_error(client.get("/api/v1/nothing-here"), 404)
    _is_api_error(client.delete("/api/v1/orders"), 405)


def test_deeply_nested_json_to_the_signed_webhook_is_refused_not_a_500(app, shop):
    raw = b'{"entry": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    response = app.test_client().post(
        "/webhooks/whatsapp",
        data=raw,
        headers={"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]["message"]
