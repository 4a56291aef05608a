"""Placing an order: one transaction turns a cart into a pending order with its stock held, or writes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Order, OrderEvent, OrderLine, StockReservation, Variant, get_store_settings
from checkout.orders.errors import (
    InvalidOrderDetails,
    InvalidQuantity,
    OutOfStock,
    PendingUnitsLimitReached,
    PriceChanged,
    ProductUnavailable,
)
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.orders.placing import details_differing_from, place_order
from checkout.orders.pricing import MAX_CART_LINES
from checkout.orders.references import REFERENCE_ALPHABET
from tests.factories import customer, make_order, make_product, make_store


@pytest.fixture
def store(app_context):
    return make_store(reservation_hours=6, delivery_fee_minor=5000)


@pytest.fixture
def kurta(store):
    return make_product(name="Kurta", price_minor=50000, stock=10, options=[{"Size": "M"}], sku="KURTA").variants[0]


@pytest.fixture
def bangle(store):
    return make_product(name="Bangle", price_minor=12050, stock=5, sku="BANGLE").variants[0]


def _counts() -> dict[str, int]:
    models = (Order, OrderLine, OrderEvent, StockReservation)
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in models}


def _available(variant: Variant) -> int:
    return stock.available_quantities([variant])[variant.id]


def _reload(order: Order) -> Order:
    order_id = order.id
    db.session.expire_all()
    return db.session.get(Order, order_id)


def _place_by_ids(lines: list[tuple[int, int]]) -> Order:
    """Place an order the way a client sends it: variant ids and quantities, nothing else."""
    return place_order(lines=lines, details=customer(), settings=get_store_settings())


def _refuses_and_writes_nothing(error, lines, **kwargs):
    before = _counts()
    with pytest.raises(error) as caught:
        make_order(lines, **kwargs)
    assert _counts() == before
    return caught.value


# --- a new order --------------------------------------------------------------------------------


def test_placing_creates_a_pending_order_with_snapshot_lines_totals_event_and_reservations(store, kurta, bangle):
    before = utcnow()
    order = make_order([(kurta, 2), (bangle, 3)])
    after = utcnow()
    order = _reload(order)

    assert order.status == "pending"
    assert order.source == "website"
    left, right = order.reference.split("-")
    assert len(left) == len(right) == 4 and set(left + right) <= set(REFERENCE_ALPHABET)
    assert len(order.status_token) >= 32
    assert (order.customer_name, order.customer_phone, order.fulfilment, order.payment_method) == (
        "Asha Kumar",
        "+919876543210",
        "delivery",
        "cod",
    )
    assert [
        (line.variant_id, line.product_name, line.options_label, line.sku, line.unit_price_minor, line.quantity)
        for line in order.lines
    ] == [(kurta.id, "Kurta", "Size M", "KURTA-0", 50000, 2), (bangle.id, "Bangle", "", "BANGLE-0", 12050, 3)]
    assert [line.line_total_minor for line in order.lines] == [100000, 36150]
    assert (order.currency, order.subtotal_minor, order.delivery_fee_minor, order.total_minor) == (
        "INR",
        136150,
        5000,
        141150,
    )
    assert [(e.kind, e.actor, e.from_status, e.to_status) for e in order.events] == [
        ("created", "customer", None, "pending")
    ]
    reservations = sorted(order.reservations, key=lambda r: r.variant_id)
    assert [(r.variant_id, r.quantity, r.released_at, r.committed_at) for r in reservations] == [
        (kurta.id, 2, None, None),
        (bangle.id, 3, None, None),
    ]
    for reservation in reservations:
        assert before + timedelta(hours=6) <= reservation.expires_at <= after + timedelta(hours=6)
    assert (_available(kurta), _available(bangle)) == (8, 2)
    assert db.session.get(Variant, kurta.id).stock_on_hand == 10  # held, not taken


def test_order_lines_keep_what_was_bought_when_the_catalog_changes_later(store, kurta):
    order = make_order([(kurta, 2)])
    kurta.price_minor = 99900
    kurta.options = {"Size": "XL"}
    kurta.product.name = "Silk kurta"
    db.session.commit()

    line = _reload(order).lines[0]
    assert (line.product_name, line.options_label, line.unit_price_minor, line.line_total_minor) == (
        "Kurta",
        "Size M",
        50000,
        100000,
    )
    # The next order is priced from the catalog as it is now.
    new_line = make_order([(db.session.get(Variant, kurta.id), 1)]).lines[0]
    assert (new_line.product_name, new_line.options_label, new_line.unit_price_minor) == (
        "Silk kurta",
        "Size XL",
        99900,
    )


def test_duplicate_lines_become_one_line_and_one_reservation(store, kurta):
    order = _reload(make_order([(kurta, 2), (kurta, 3)]))
    assert [(line.quantity, line.line_total_minor) for line in order.lines] == [(5, 250000)]
    assert [r.quantity for r in order.reservations] == [5]
    assert _available(kurta) == 5


def test_delivery_fee_and_free_threshold_come_from_the_store(app_context):
    make_store(delivery_fee_minor=7000, free_delivery_threshold_minor=100000)
    kurta = make_product(price_minor=50000).variants[0]
    assert (make_order([(kurta, 1)]).delivery_fee_minor, make_order([(kurta, 2)]).delivery_fee_minor) == (7000, 0)


def test_pickup_is_free_and_keeps_no_address(store, kurta):
    order = make_order([(kurta, 1)], details=customer(fulfilment="pickup", address="Somewhere typed anyway"))
    assert (order.fulfilment, order.delivery_address, order.delivery_fee_minor, order.total_minor) == (
        "pickup",
        "",
        0,
        50000,
    )


def test_delivery_address_is_kept_exactly_as_typed(store, kurta):
    typed = "Beth House, Kasarani, House 16\nNear the blue gate,\n  ask for Mama Beth"
    order = make_order([(kurta, 1)], details=customer(address=typed))
    assert _reload(order).delivery_address == typed


def test_name_and_note_lose_surrounding_spaces_only(store, kurta):
    order = make_order([(kurta, 1)], details=customer(name="  Asha  Kumar ", note="  Ring twice,\nthen call  "))
    order = _reload(order)
    assert (order.customer_name, order.note) == ("Asha  Kumar", "Ring twice,\nthen call")


# --- the same checkout twice --------------------------------------------------------------------


def test_second_checkout_with_the_same_key_returns_the_same_order_and_writes_nothing(store, kurta):
    first = make_order([(kurta, 2)], checkout_key="cart-1-attempt-1")
    before = _counts()
    again = make_order([(kurta, 2)], checkout_key="cart-1-attempt-1")
    other_cart = make_order([(kurta, 7)], checkout_key="cart-1-attempt-1")
    assert again.id == other_cart.id == first.id
    assert _counts() == before == {"Order": 1, "OrderLine": 1, "OrderEvent": 1, "StockReservation": 1}
    assert _available(kurta) == 8


def test_different_checkout_keys_make_different_orders(store, kurta):
    first = make_order([(kurta, 1)], checkout_key="key-a")
    second = make_order([(kurta, 1)], checkout_key="key-b")
    assert first.id != second.id
    assert first.reference != second.reference and first.status_token != second.status_token
    assert _available(kurta) == 8


# --- stock --------------------------------------------------------------------------------------


def test_out_of_stock_refuses_the_whole_order_and_writes_nothing(store, kurta, bangle):
    error = _refuses_and_writes_nothing(OutOfStock, [(kurta, 2), (bangle, 6)])
    assert [(s.sku, s.name, s.requested, s.available) for s in error.shortages] == [("BANGLE-0", "Bangle", 6, 5)]
    assert str(error) == "Not enough stock — Bangle: only 5 left."
    assert (_available(kurta), _available(bangle)) == (10, 5)


def test_sold_out_items_are_named_with_their_options(store, kurta):
    make_order([(kurta, 10)])
    error = _refuses_and_writes_nothing(OutOfStock, [(kurta, 1)])
    assert str(error) == "Not enough stock — Kurta (Size M): sold out."


def test_available_is_on_hand_minus_open_reservations(store, kurta):
    make_order([(kurta, 3)])
    make_order([(kurta, 4)])
    assert _available(kurta) == 3
    _refuses_and_writes_nothing(OutOfStock, [(kurta, 4)])
    make_order([(kurta, 3)])
    assert _available(kurta) == 0
    assert db.session.get(Variant, kurta.id).stock_on_hand == 10


def test_an_expired_reservation_stops_counting_without_any_cleanup(store, kurta):
    held = make_order([(kurta, 10)])
    _refuses_and_writes_nothing(OutOfStock, [(kurta, 1)])
    db.session.execute(
        update(StockReservation)
        .where(StockReservation.order_id == held.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()

    assert _available(kurta) == 10
    assert make_order([(kurta, 10)]).status == "pending"
    # The expired row is still there, untouched: nothing cleaned it up.
    expired = db.session.scalar(select(StockReservation).where(StockReservation.order_id == held.id))
    assert (expired.released_at, expired.committed_at) == (None, None)


@pytest.mark.parametrize("closed_column", ["released_at", "committed_at"])
def test_released_and_committed_reservations_no_longer_count(store, kurta, closed_column):
    held = make_order([(kurta, 10)])
    assert _available(kurta) == 0
    db.session.execute(
        update(StockReservation).where(StockReservation.order_id == held.id).values({closed_column: utcnow()})
    )
    db.session.commit()
    assert _available(kurta) == 10
    make_order([(kurta, 10)])


def test_stock_on_hand_can_never_go_below_zero_in_the_database(store, kurta):
    db.session.add(Variant(product=kurta.product, sku="KURTA-NEG", price_minor=50000, stock_on_hand=-1))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    db.session.get(Variant, kurta.id).stock_on_hand = -1
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    assert db.session.get(Variant, kurta.id).stock_on_hand == 10
    assert db.session.scalar(select(func.count()).select_from(Variant)) == 1


# --- what the cart and the shopper may send -----------------------------------------------------


def test_prices_changed_since_the_shopper_looked_refuses_the_order(store, kurta):
    error = _refuses_and_writes_nothing(PriceChanged, [(kurta, 2)], expected_subtotal_minor=90000)
    assert (error.expected_minor, error.actual_minor) == (90000, 100000)
    assert make_order([(kurta, 2)], expected_subtotal_minor=100000).subtotal_minor == 100000


@pytest.mark.parametrize("quantity", [0, -1, 100, True, "2", 2.5])
def test_invalid_quantities_are_refused_and_write_nothing(store, kurta, quantity):
    _refuses_and_writes_nothing(InvalidQuantity, [(kurta, quantity)])


def test_duplicate_lines_adding_up_to_more_than_99_are_refused(store, kurta):
    _refuses_and_writes_nothing(InvalidQuantity, [(kurta, 50), (kurta, 50)])


def test_more_than_the_maximum_number_of_lines_is_refused(store):
    before = _counts()
    with pytest.raises(InvalidQuantity):
        _place_by_ids([(variant_id, 1) for variant_id in range(1, MAX_CART_LINES + 2)])
    assert _counts() == before


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_products_cannot_be_ordered(store, kurta, status):
    hidden = make_product(status=status, sku="HIDDEN").variants[0]
    error = _refuses_and_writes_nothing(ProductUnavailable, [(kurta, 1), (hidden, 1)])
    assert error.reference == "HIDDEN-0"
    assert _available(kurta) == 10


def test_an_unknown_variant_cannot_be_ordered(store, kurta):
    before = _counts()
    with pytest.raises(ProductUnavailable) as caught:
        _place_by_ids([(kurta.id, 1), (987654, 1)])
    assert caught.value.reference == "item #987654"
    assert _counts() == before


@pytest.mark.parametrize(
    "details,field",
    [
        (dict(address=""), "address"),
        (dict(address="  \n "), "address"),
        (dict(address="x" * 501), "address"),
        (dict(payment_method="bitcoin"), "payment_method"),
        (dict(fulfilment="drone"), "fulfilment"),
        (dict(name="   "), "name"),
        (dict(name="n" * 81), "name"),
        (dict(note="n" * 501), "note"),
    ],
)
def test_invalid_details_are_refused_with_the_field_to_fix(store, kurta, details, field):
    error = _refuses_and_writes_nothing(InvalidOrderDetails, [(kurta, 1)], details=customer(**details))
    assert error.field == field
    assert str(error)


def test_a_payment_method_the_store_does_not_offer_is_refused(app_context):
    make_store(payment_methods=["cod"])
    variant = make_product().variants[0]
    error = _refuses_and_writes_nothing(
        InvalidOrderDetails, [(variant, 1)], details=customer(payment_method="transfer")
    )
    assert error.field == "payment_method"


def test_pickup_is_refused_when_the_store_does_not_offer_it(app_context):
    make_store(pickup_enabled=False)
    variant = make_product().variants[0]
    error = _refuses_and_writes_nothing(
        InvalidOrderDetails, [(variant, 1)], details=customer(fulfilment="pickup", address="")
    )
    assert (error.field, str(error)) == ("fulfilment", "This shop does not offer pickup.")


# --- how much one phone may hold ----------------------------------------------------------------------------------


@pytest.fixture
def sari(app_context):
    make_store(max_pending_units_per_phone=50)
    return make_product(name="Sari", price_minor=100000, stock=400, sku="SARI").variants[0]


def test_one_phone_cannot_hold_more_units_than_the_shop_allows_in_pending_orders(sari):
    make_order([(sari, 40)])
    refused = _refuses_and_writes_nothing(PendingUnitsLimitReached, [(sari, 11)])
    assert (refused.held, refused.wanted, refused.limit) == (40, 11, 50)
    assert "already has 40 items in orders waiting for confirmation" in str(refused)
    assert "at most 50" in str(refused)
    make_order([(sari, 10)])  # up to the cap exactly
    other_phone = make_order([(sari, 50)], details=customer(phone="+254712345678"))
    assert other_phone.status == "pending"
    assert _available(sari) == 400 - 100


def test_a_single_order_over_the_cap_is_refused_and_says_so(sari):
    refused = _refuses_and_writes_nothing(PendingUnitsLimitReached, [(sari, 51)])
    assert refused.held == 0 and "this order has 51" in str(refused)


def test_only_units_still_held_count_against_the_cap(sari):
    confirmed = make_order([(sari, 50)])
    transition(confirmed, OrderStatus.CONFIRMED, actor="staff")
    cancelled = make_order([(sari, 50)])
    transition(cancelled, OrderStatus.CANCELLED, actor="staff", note="changed my mind")
    expired = make_order([(sari, 50)])
    db.session.execute(
        update(StockReservation)
        .where(StockReservation.order_id == expired.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert stock.units_held_for_phone("+919876543210") == 0
    assert make_order([(sari, 50)]).status == "pending"


def test_the_cap_is_a_store_setting(sari):
    get_store_settings().max_pending_units_per_phone = 120
    db.session.commit()
    assert make_order([(sari, 99)]).status == "pending"
    _refuses_and_writes_nothing(PendingUnitsLimitReached, [(sari, 22)])


def test_a_new_shop_lets_one_phone_hold_50_units(app_context):
    assert get_store_settings().max_pending_units_per_phone == 50


def test_details_differing_from_an_order_are_named_in_plain_words(store):
    order = make_order([(make_product(stock=5).variants[0], 1)], details=customer())
    assert details_differing_from(order, customer()) == []
    assert details_differing_from(order, customer(name=" Asha Kumar\u202e ")) == []  # stored the same way
    moved = customer(phone="+919876500000", fulfilment="pickup", address="x")
    assert details_differing_from(order, moved) == ["WhatsApp number", "delivery or pickup", "address"]


def test_a_reference_already_taken_is_drawn_again_without_looking_it_up_first(kurta, monkeypatch):
    """No SELECT guards the reference: the unique index refuses a taken one and placing draws another."""
    first = make_order([(kurta, 1)])
    draws = iter([first.reference, "ABCD-EFGH"])
    monkeypatch.setattr("checkout.orders.placing.generate_reference", lambda: next(draws))
    second = place_order(lines=[(kurta.id, 1)], details=customer(), settings=get_store_settings())
    assert second.reference == "ABCD-EFGH" and second.id != first.id
    assert db.session.scalar(select(func.count(Order.id))) == 2


def test_a_repeat_of_a_checkout_key_returns_its_order_even_with_stock_and_price_changed(kurta):
    """Placing looks nothing up before inserting: the key's unique index answers a repeat with the first order."""
    settings = get_store_settings()
    first = place_order(lines=[(kurta.id, 2)], details=customer(), settings=settings, checkout_key="web:repeat")
    kurta.price_minor += 100
    db.session.commit()
    again = place_order(lines=[(kurta.id, 9)], details=customer(), settings=settings, checkout_key="web:repeat")
    assert again.id == first.id and again.lines[0].quantity == 2
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_the_holds_a_checkout_checks_are_read_in_one_statement(kurta, bangle):
    make_order([(kurta, 3), (bangle, 1)])
    make_order([(kurta, 2)], details=customer(phone="+919811111111"))
    reserved, held = stock.holds_at_checkout([kurta.id, bangle.id], "+919876543210")
    assert reserved == {kurta.id: 5, bangle.id: 1} and held == 4
    assert stock.holds_at_checkout([], "+919800000000") == ({}, 0)
