"""A failed delivery in the one state machine, and every message about it within Meta's limits."""

from datetime import UTC, date, datetime

import pytest

from checkout.catalog import stock
from checkout.extensions import db
from checkout.models import Variant, get_store_settings
from checkout.orders import delivery_exceptions
from checkout.orders.errors import DeliveryChoiceRefused, TransitionNotAllowed
from checkout.orders.lifecycle import OPEN_STATUSES, OrderStatus, allowed_transitions, transition
from checkout.whatsapp import messages
from checkout.whatsapp.limits import check_payload
from tests.factories import customer, make_order, make_product, make_store

S = OrderStatus
OUT = [S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY]


@pytest.fixture
def variant(app_context):
    make_store(name="S" * 80)
    return make_product(stock=10).variants[0]


def order_at(variant, path, **details):
    order = make_order([(variant, 2)], details=customer(address="1 Road", **details))
    for status in path:
        transition(order, status, actor="staff", note="Nobody home" if status is S.DELIVERY_FAILED else "")
    db.session.commit()
    return order


def test_a_failed_delivery_may_be_tried_again_rescheduled_or_returned(variant):
    order = order_at(variant, [*OUT, S.DELIVERY_FAILED])
    assert set(allowed_transitions(order)) == {S.RESCHEDULED, S.RETURNING, S.OUT_FOR_DELIVERY}
    transition(order, S.RESCHEDULED, actor="staff")
    assert set(allowed_transitions(order)) == {S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED, S.RETURNING}
    transition(order, S.RETURNING, actor="staff")
    assert allowed_transitions(order) == [S.RETURNED]
    with pytest.raises(TransitionNotAllowed):
        transition(order, S.DELIVERED, actor="staff")


def test_open_statuses_keep_the_failed_ones_and_leave_returned_in_history():
    assert {S.DELIVERY_FAILED, S.RESCHEDULED, S.RETURNING} <= set(OPEN_STATUSES)
    assert S.RETURNED not in OPEN_STATUSES


def test_a_parcel_back_at_the_shop_puts_its_stock_back_and_a_paid_one_says_a_refund_is_due(variant):
    order = order_at(variant, [*OUT, S.DELIVERY_FAILED, S.RETURNING])
    assert db.session.get(Variant, variant.id).stock_on_hand == 8
    order.amount_paid_minor = 50000  # as a recorded payment leaves it
    transition(order, S.RETURNED, actor="Courier")
    db.session.commit()
    assert db.session.get(Variant, variant.id).stock_on_hand == 10
    assert stock.variants_out_of_step_with_ledger() == {}
    assert "refund due" in order.attention and "500" in order.attention


def test_the_days_offered_are_the_next_three_in_the_shops_zone():
    late_evening_utc = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # already 5 December in Kolkata
    assert delivery_exceptions.days_offered(late_evening_utc, "Asia/Kolkata") == [
        date(2026, 12, 6),
        date(2026, 12, 7),
        date(2026, 12, 8),
    ]


def test_a_choice_for_an_order_that_moved_on_is_refused(variant):
    order = order_at(variant, OUT)
    with pytest.raises(DeliveryChoiceRefused, match="out for delivery now"):
        delivery_exceptions.return_to_shop(order)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("  Flat 2\n\u202eनेहरू नगर\x00  ", "Flat 2\nनेहरू नगर"), ("x" * 500, "x" * 500)],
)
def test_a_typed_address_is_kept_as_typed_without_direction_controls(typed, kept):
    assert delivery_exceptions.clean_address(typed) == kept


@pytest.mark.parametrize("typed", ["", "   \n", "x" * 501])
def test_an_empty_or_too_long_address_is_refused(typed):
    with pytest.raises(delivery_exceptions.AddressRefused):
        delivery_exceptions.clean_address(typed)


def test_every_message_about_a_failed_delivery_fits_metas_limits_with_the_longest_values(variant):
    order = order_at(variant, [*OUT, S.DELIVERY_FAILED], name="N" * 80)
    order.delivery_address = "A" * 500
    order.expected_delivery_date = date(2026, 12, 30)
    settings = get_store_settings()
    reason, lead = "R" * 120, "The shop could not use the new address you sent: " + "W" * 200 + "."
    built = []
    for in_window in (True, False):
        built.append(
            messages.delivery_failed_choices(order, settings, reason=reason, in_window=in_window, language="en")
        )
        built.append(
            messages.delivery_failed_choices(order, settings, reason="", in_window=in_window, language="en", lead=lead)
        )
        for status in (S.RESCHEDULED, S.RETURNING, S.RETURNED):
            order.status = status.value
            built.append(
                messages.delivery_exception_update(
                    order, settings, status_url="https://shop.example/o/" + "t" * 64, in_window=in_window, language="en"
                )
            )
        order.status = S.DELIVERY_FAILED.value
    days = delivery_exceptions.days_offered(datetime(2026, 12, 4, tzinfo=UTC), settings.zone_name)
    built += [
        messages.delivery_days_question(order, days, settings),
        messages.new_address_question(order),
        messages.new_address_received(order, "A" * 500),
        messages.delivery_choice_refused("X" * 300, "https://shop.example/o/t"),
    ]
    for message in built:
        check_payload(message.payload)
    buttons = built[0].payload["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Deliver again", "Change address", "Cancel and return"]
    assert built[5].payload["template"]["name"] == "delivery_failed"  # the first one outside the window


def test_a_reply_id_names_the_choice_the_order_and_the_day():
    assert messages.delivery_choice_from_reply("dx-again:abcd-2345") == ("again", "ABCD-2345", "")
    assert messages.delivery_choice_from_reply("dx-day:ABCD-2345:2026-12-05") == ("day", "ABCD-2345", "2026-12-05")
    assert messages.delivery_choice_from_reply("confirm:ABCD-2345") is None
