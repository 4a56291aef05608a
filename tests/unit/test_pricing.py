"""Pricing: what cart lines cost, always from the catalog; delivery fee, free threshold, pickup."""

import pytest

from checkout.models import ProductStatus, StoreSettings
from checkout.orders.errors import EmptyCart, InvalidQuantity, ProductUnavailable
from checkout.orders.pricing import (
    MAX_CART_LINES,
    MAX_LINE_QUANTITY,
    delivery_fee,
    merge_lines,
    price_lines,
    validate_quantity,
)
from tests.factories import make_product, make_store

INVALID_QUANTITIES = [0, -1, 100, True, False, "2", 2.5, 2.0, None]


def _settings(fee=5000, threshold=None):
    return StoreSettings(currency="INR", delivery_fee_minor=fee, free_delivery_threshold_minor=threshold)


@pytest.mark.parametrize("quantity", [1, 2, MAX_LINE_QUANTITY])
def test_whole_quantities_from_1_to_99_are_accepted(quantity):
    assert validate_quantity(quantity) == quantity


@pytest.mark.parametrize("quantity", INVALID_QUANTITIES)
def test_quantities_that_are_not_whole_numbers_from_1_to_99_are_refused(quantity):
    with pytest.raises(InvalidQuantity, match="whole numbers from 1 to 99"):
        validate_quantity(quantity)


def test_duplicate_lines_are_merged_into_one_quantity_per_variant():
    assert merge_lines([(7, 2), (9, 1), (7, 3)]) == {7: 5, 9: 1}


def test_merged_quantity_above_the_maximum_is_refused():
    with pytest.raises(InvalidQuantity):
        merge_lines([(7, 60), (7, 40)])
    assert merge_lines([(7, 60), (7, 39)]) == {7: 99}


@pytest.mark.parametrize("quantity", INVALID_QUANTITIES)
def test_an_invalid_quantity_is_refused_even_when_merging_would_hide_it(quantity):
    with pytest.raises(InvalidQuantity):
        merge_lines([(7, 5), (7, quantity)])


@pytest.mark.parametrize(
    "subtotal,fulfilment,threshold,expected",
    [
        (10000, "delivery", None, 5000),
        (10_000_000, "delivery", None, 5000),  # no threshold: always the fee
        (99999, "delivery", 100000, 5000),
        (100000, "delivery", 100000, 0),  # reaching the threshold is enough
        (150000, "delivery", 100000, 0),
        (10000, "pickup", None, 0),
        (10000, "pickup", 100000, 0),
    ],
)
def test_delivery_costs_the_fee_below_the_free_threshold_and_pickup_is_free(subtotal, fulfilment, threshold, expected):
    assert delivery_fee(subtotal, fulfilment, _settings(threshold=threshold)) == expected


@pytest.fixture
def settings(app_context):
    return make_store(delivery_fee_minor=5000, free_delivery_threshold_minor=200000)


def test_lines_are_priced_from_the_catalog(settings):
    kurta = make_product(price_minor=50000).variants[0]
    bangle = make_product(price_minor=12050).variants[0]
    quote = price_lines({kurta.id: 2, bangle.id: 3}, {kurta.id: kurta, bangle.id: bangle}, "delivery", settings)
    assert [(line.variant.id, line.unit_price_minor, line.line_total_minor) for line in quote.lines] == [
        (kurta.id, 50000, 100000),
        (bangle.id, 12050, 36150),
    ]
    assert (quote.subtotal_minor, quote.delivery_fee_minor, quote.total_minor) == (136150, 5000, 141150)
    assert (quote.currency, quote.item_count) == ("INR", 5)


def test_a_price_change_in_the_catalog_changes_the_quote(settings):
    kurta = make_product(price_minor=50000).variants[0]
    kurta.price_minor = 60000
    quote = price_lines({kurta.id: 1}, {kurta.id: kurta}, "delivery", settings)
    assert quote.subtotal_minor == 60000


def test_reaching_the_free_delivery_threshold_makes_delivery_free(settings):
    kurta = make_product(price_minor=100000).variants[0]
    assert price_lines({kurta.id: 1}, {kurta.id: kurta}, "delivery", settings).total_minor == 105000
    assert price_lines({kurta.id: 2}, {kurta.id: kurta}, "delivery", settings).total_minor == 200000
    assert price_lines({kurta.id: 1}, {kurta.id: kurta}, "pickup", settings).total_minor == 100000


def test_an_empty_cart_cannot_be_priced(settings):
    with pytest.raises(EmptyCart):
        price_lines({}, {}, "delivery", settings)


def test_more_than_the_maximum_number_of_lines_is_refused(settings):
    wanted = {variant_id: 1 for variant_id in range(1, MAX_CART_LINES + 2)}
    with pytest.raises(InvalidQuantity, match=f"1 to {MAX_CART_LINES}"):
        price_lines(wanted, {}, "delivery", settings)


@pytest.mark.parametrize("status", [ProductStatus.DRAFT, ProductStatus.ARCHIVED])
def test_draft_and_archived_products_are_unavailable(settings, status):
    variant = make_product(status=status, sku="KURTA").variants[0]
    with pytest.raises(ProductUnavailable, match=r"\(KURTA-0\)"):
        price_lines({variant.id: 1}, {variant.id: variant}, "delivery", settings)


def test_an_unknown_variant_is_unavailable(settings):
    with pytest.raises(ProductUnavailable, match=r"\(item #424242\)"):
        price_lines({424242: 1}, {}, "delivery", settings)
