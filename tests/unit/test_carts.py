"""Carts on the server: lines added, merged, bounded and removed in committed steps, priced by the one pricing
function with every change explained, reopened, linked to their order and swept when idle."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import carts
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Cart, CartLine, ProductStatus, get_store_settings
from checkout.notifications import run_scheduled_work
from checkout.orders.errors import (
    CartAlreadyOrdered,
    CartFull,
    CartNotFound,
    InvalidQuantity,
    OutOfStock,
    ProductUnavailable,
)
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY
from tests.factories import make_cart, make_order, make_product, make_store


@pytest.fixture
def shop(app_context):
    make_store(delivery_fee_minor=5000, free_delivery_threshold_minor=None)
    kurta = make_product("Cotton Kurta", price_minor=79900, stock=5, options=[{"Size": "M"}, {"Size": "L"}])
    tea = make_product("Assam Tea", price_minor=24000, stock=200)
    db.session.commit()
    return {"kurta_m": kurta.variants[0], "kurta_l": kurta.variants[1], "tea": tea.variants[0]}


def lines_of(token):
    db.session.expire_all()
    cart = carts.find_cart(token)
    return [(line.variant_id, line.quantity) for line in cart.lines] if cart else None


def test_the_first_add_makes_the_cart_and_the_same_item_again_merges(shop):
    token = carts.new_cart_token()
    assert carts.find_cart(token) is None
    carts.add_item(token, shop["kurta_m"].id, 2, start_channel="website")
    carts.add_item(token, shop["tea"].id, 1, start_channel="website")
    change = carts.add_item(token, shop["kurta_m"].id, 1, start_channel="website")
    assert change.quantity == 3 and change.note is None
    assert lines_of(token) == [(shop["kurta_m"].id, 3), (shop["tea"].id, 1)]
    cart = carts.find_cart(token)
    assert cart.channel == "website" and [line.seen_price_minor for line in cart.lines] == [79900, 24000]


def test_every_change_is_committed_before_it_returns(shop, app):
    token = carts.new_cart_token()
    carts.add_item(token, shop["tea"].id, 2, start_channel="website")
    db.session.rollback()  # what a request that ends at once would do: the add is already in the database
    assert lines_of(token) == [(shop["tea"].id, 2)]


def test_without_a_start_channel_only_an_existing_cart_takes_items(shop):
    with pytest.raises(CartNotFound):
        carts.add_item(carts.new_cart_token(), shop["tea"].id, 1)
    with pytest.raises(CartNotFound):
        carts.add_item("not a token!", shop["tea"].id, 1, start_channel="website")
    assert db.session.scalar(select(func.count(Cart.id))) == 0


def test_a_line_holds_no_more_than_the_stock_and_says_so(shop):
    token = carts.new_cart_token()
    change = carts.add_item(token, shop["kurta_m"].id, 7, start_channel="website")
    assert change.quantity == 5
    assert change.note.kind is carts.NoteKind.LIMITED
    assert change.note.message == "Only 5 of Cotton Kurta (Size M) left: your cart has 5."
    with pytest.raises(OutOfStock, match=r"Cotton Kurta \(Size M\): only 5 left"):
        carts.add_item(token, shop["kurta_m"].id, 1)
    assert lines_of(token) == [(shop["kurta_m"].id, 5)]


def test_a_line_holds_at_most_the_most_per_line_and_a_cart_the_most_lines(shop):
    token = carts.new_cart_token()
    carts.add_item(token, shop["tea"].id, MAX_LINE_QUANTITY, start_channel="website")
    change = carts.add_item(token, shop["tea"].id, 5)
    assert change.quantity == MAX_LINE_QUANTITY and "at most 99" in change.note.message
    for quantity in (0, MAX_LINE_QUANTITY + 1, True, "2"):
        with pytest.raises(InvalidQuantity):
            carts.add_item(token, shop["tea"].id, quantity)
    cart = carts.find_cart(token)
    many = make_product("Bangle", stock=10, options=[{"No": str(n)} for n in range(MAX_CART_LINES)])
    for variant in many.variants[: MAX_CART_LINES - 1]:
        cart.lines.append(CartLine(variant=variant, quantity=1, seen_price_minor=variant.price_minor))
    db.session.commit()
    with pytest.raises(CartFull):
        carts.add_item(token, many.variants[-1].id, 1)


def test_items_not_for_sale_or_unknown_are_refused(shop):
    shop["kurta_l"].product.status = ProductStatus.ARCHIVED
    db.session.commit()
    token = carts.new_cart_token()
    for variant_id in (shop["kurta_l"].id, 999_999):
        with pytest.raises(ProductUnavailable):
            carts.add_item(token, variant_id, 1, start_channel="website")
    assert carts.find_cart(token) is None


def test_setting_a_quantity_lowers_freely_raises_up_to_the_stock_and_zero_removes(shop):
    token = carts.new_cart_token()
    carts.add_item(token, shop["kurta_m"].id, 2, start_channel="website")
    carts.add_item(token, shop["tea"].id, 1)
    assert carts.set_item_quantity(token, shop["kurta_m"].id, 9).quantity == 5
    assert carts.set_item_quantity(token, shop["kurta_m"].id, 1).quantity == 1
    carts.set_item_quantity(token, shop["tea"].id, 0)
    assert lines_of(token) == [(shop["kurta_m"].id, 1)]
    carts.remove_item(token, shop["kurta_m"].id)
    assert lines_of(token) == []
    with pytest.raises(InvalidQuantity):
        carts.set_item_quantity(token, shop["tea"].id, -1)


def test_changes_touch_the_cart_so_expiry_counts_from_the_last_one(shop):
    token = carts.new_cart_token()
    carts.add_item(token, shop["tea"].id, 1, start_channel="website")
    cart = carts.find_cart(token)
    cart.updated_at = utcnow() - timedelta(days=10)
    db.session.commit()
    carts.set_item_quantity(token, shop["tea"].id, 3)
    db.session.expire_all()
    assert utcnow() - carts.find_cart(token).updated_at < timedelta(minutes=1)


def test_price_cart_prices_like_an_order_and_explains_every_changed_line(shop):
    token = carts.new_cart_token()
    for variant, quantity in ((shop["kurta_m"], 2), (shop["kurta_l"], 1), (shop["tea"], 3)):
        carts.add_item(token, variant.id, quantity, start_channel="website")
    shop["tea"].price_minor = 26000
    shop["kurta_l"].product.status = ProductStatus.ARCHIVED  # the whole kurta product
    db.session.commit()
    settings = get_store_settings()

    priced = carts.price_cart(carts.find_cart(token), "delivery", settings)
    assert [(line.variant.id, line.quantity) for line in priced.lines] == [(shop["tea"].id, 3)]
    assert (priced.quote.subtotal_minor, priced.quote.delivery_fee_minor) == (78000, 5000)
    assert [(note.kind, note.message) for note in priced.notes] == [
        (carts.NoteKind.UNAVAILABLE, "Cotton Kurta (Size M) is no longer available."),
        (carts.NoteKind.UNAVAILABLE, "Cotton Kurta (Size L) is no longer available."),
        (
            carts.NoteKind.PRICE_CHANGED,
            "The price of Assam Tea changed from ₹240.00 to ₹260.00 since you added it.",
        ),
    ]
    assert carts.price_cart(carts.find_cart(token), "pickup", settings).quote.delivery_fee_minor == 0

    carts.record_shown(carts.find_cart(token), priced)  # told once: the lines go, the new price is the seen one
    db.session.expire_all()
    again = carts.price_cart(carts.find_cart(token), "delivery", settings)
    assert again.notes == [] and lines_of(token) == [(shop["tea"].id, 3)]


def test_sold_out_and_fewer_left_stay_in_the_cart_and_are_named(shop):
    token = carts.new_cart_token()
    carts.add_item(token, shop["kurta_m"].id, 4, start_channel="website")
    carts.add_item(token, shop["kurta_l"].id, 1)
    shop["kurta_m"].stock_on_hand, shop["kurta_l"].stock_on_hand = 2, 0
    db.session.commit()
    priced = carts.price_cart(carts.find_cart(token), "delivery", get_store_settings())
    assert [line.quantity for line in priced.lines] == [4, 1]
    assert [(note.kind, note.message) for note in priced.notes] == [
        (carts.NoteKind.FEWER_LEFT, "Only 2 of Cotton Kurta (Size M) left."),
        (carts.NoteKind.SOLD_OUT, "Cotton Kurta (Size L) is sold out."),
    ]
    assert priced.available == {shop["kurta_m"].id: 2, shop["kurta_l"].id: 0}


def test_an_empty_or_missing_cart_prices_to_nothing(shop):
    priced = carts.price_cart(None, "delivery", get_store_settings())
    assert priced.lines == [] and priced.quote.subtotal_minor == 0 and priced.notes == []


def test_an_ordered_cart_changes_no_more_and_reopening_it_starts_a_copy(shop):
    token = carts.new_cart_token()
    carts.add_item(token, shop["tea"].id, 2, start_channel="widget")
    cart = carts.find_cart(token)
    order = make_order([(shop["tea"], 2)])
    carts.mark_ordered(cart.id, order.id, name="Asha", phone="+919876543210")
    db.session.expire_all()
    cart = carts.find_cart(token)
    assert (cart.order_id, cart.customer_name, cart.phone) == (order.id, "Asha", "+919876543210")
    assert carts.find_cart_of_order(order).token == token
    with pytest.raises(CartAlreadyOrdered):
        carts.add_item(token, shop["tea"].id, 1)

    copy = carts.reopen_cart(token)
    assert copy.token != token and copy.order_id is None and copy.channel == "website"
    assert [(line.variant_id, line.quantity) for line in copy.lines] == [(shop["tea"].id, 2)]
    unordered = carts.new_cart_token()
    carts.add_item(unordered, shop["tea"].id, 1, start_channel="widget")
    assert carts.reopen_cart(unordered).token == unordered  # not ordered: the same cart continues
    assert carts.reopen_cart(carts.new_cart_token()) is None


def test_the_sweep_deletes_carts_idle_past_the_shops_expiry_ordered_or_not(shop):
    settings = get_store_settings()
    settings.cart_expiry_days = 30
    now = utcnow()
    idle = make_cart([(shop["tea"], 1)], updated_at=now - timedelta(days=31))
    order = make_order([(shop["tea"], 1)])
    ordered = make_cart([(shop["tea"], 1)], updated_at=now - timedelta(days=40), order_id=order.id)
    fresh = make_cart([(shop["tea"], 1)], updated_at=now - timedelta(days=29))
    db.session.commit()
    tokens = (idle.token, ordered.token, fresh.token)

    run_scheduled_work()
    assert [carts.find_cart(token) is not None for token in tokens] == [False, False, True]
    assert db.session.scalar(select(func.count(CartLine.id))) == 1
    assert db.session.get(type(order), order.id).lines  # the order keeps its own copy
    settings.cart_expiry_days = 7
    db.session.commit()
    assert carts.delete_expired_carts(now + timedelta(days=1)) == 1


def test_tokens_are_unguessable_and_only_token_shaped_text_is_looked_up(shop):
    tokens = {carts.new_cart_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(token) == 32 and carts.is_cart_token(token) for token in tokens)
    for bad in (None, "", "x" * 65, "a/b", "a b", "ä", 42, ["x"]):
        assert not carts.is_cart_token(bad)
        assert carts.find_cart(bad) is None
