"""The order state machine: every allowed transition works, every other one is refused."""

import importlib.util
import re
from pathlib import Path

import pytest

from checkout.catalog import stock
from checkout.extensions import db
from checkout.models import Variant
from checkout.models.orders import OPEN_STATUSES_SQL
from checkout.orders.errors import ReasonRequired, TransitionNotAllowed
from checkout.orders.lifecycle import OPEN_STATUSES, TRANSITIONS, OrderStatus, allowed_transitions, transition
from tests.factories import customer, make_order, make_product, make_store

S = OrderStatus

DELIVERY_PATH = [S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED]
PICKUP_PATH = [S.CONFIRMED, S.PREPARING, S.READY_FOR_PICKUP, S.DELIVERED]


@pytest.fixture
def variant(app_context):
    make_store()
    return make_product(stock=100).variants[0]


def _order_at(variant, fulfilment, path):
    details = customer(fulfilment=fulfilment, address="1 Road" if fulfilment == "delivery" else "")
    order = make_order([(variant, 2)], details=details)
    for status in path:
        transition(order, status, actor="staff")
    db.session.commit()
    return order


def _expected_targets(fulfilment, status):
    targets = set(TRANSITIONS[fulfilment].get(status, set()))
    if status in (S.PENDING, S.CONFIRMED, S.PREPARING):
        targets.add(S.CANCELLED)
    return targets


@pytest.mark.parametrize("fulfilment,path", [("delivery", DELIVERY_PATH), ("pickup", PICKUP_PATH)])
def test_happy_path_walks_to_delivered_and_records_each_step(variant, fulfilment, path):
    order = _order_at(variant, fulfilment, path)
    assert order.status == S.DELIVERED
    steps = [(e.from_status, e.to_status) for e in order.events if e.kind == "status"]
    assert steps == list(zip(["pending"] + [s.value for s in path[:-1]], [s.value for s in path], strict=True))


@pytest.mark.parametrize("fulfilment,path", [("delivery", DELIVERY_PATH), ("pickup", PICKUP_PATH)])
def test_every_forbidden_transition_is_refused_and_changes_nothing(variant, fulfilment, path):
    for reached in range(len(path) + 1):
        order = _order_at(variant, fulfilment, path[:reached])
        current = S(order.status)
        assert set(allowed_transitions(order)) == _expected_targets(fulfilment, current)
        for target in S:
            if target in _expected_targets(fulfilment, current):
                continue
            events_before = len(order.events)
            with pytest.raises(TransitionNotAllowed):
                transition(order, target, actor="staff", note="reason")
            assert order.status == current
            assert len(order.events) == events_before


def test_pickup_orders_are_never_shipped_and_delivery_orders_never_ready_for_pickup(variant):
    delivery = _order_at(variant, "delivery", [S.CONFIRMED, S.PREPARING])
    pickup = _order_at(variant, "pickup", [S.CONFIRMED, S.PREPARING])
    assert S.READY_FOR_PICKUP not in allowed_transitions(delivery)
    assert S.SHIPPED not in allowed_transitions(pickup)


def test_cancelling_needs_a_reason(variant):
    order = _order_at(variant, "delivery", [])
    with pytest.raises(ReasonRequired):
        transition(order, S.CANCELLED, actor="staff", note="  ")
    assert order.status == S.PENDING


def test_cancelling_a_pending_order_releases_its_reservation(variant):
    order = _order_at(variant, "delivery", [])
    assert stock.available_quantities([variant])[variant.id] == 98
    transition(order, S.CANCELLED, actor="customer", note="Changed my mind")
    db.session.commit()
    assert stock.available_quantities([variant])[variant.id] == 100
    assert db.session.get(Variant, variant.id).stock_on_hand == 100
    assert order.events[-1].note == "Changed my mind"


def test_confirming_commits_stock_and_cancelling_later_puts_it_back(variant):
    order = _order_at(variant, "delivery", [S.CONFIRMED])
    assert db.session.get(Variant, variant.id).stock_on_hand == 98
    assert stock.available_quantities([variant])[variant.id] == 98
    transition(order, S.PREPARING, actor="staff")
    transition(order, S.CANCELLED, actor="staff", note="Customer unreachable")
    db.session.commit()
    assert db.session.get(Variant, variant.id).stock_on_hand == 100
    assert stock.available_quantities([variant])[variant.id] == 100


def test_the_open_orders_index_covers_exactly_the_open_statuses():
    """The partial index behind the desk's tab counts must list the statuses those counts ask for."""
    assert set(re.findall(r"'([a-z_]+)'", OPEN_STATUSES_SQL)) == {status.value for status in OPEN_STATUSES}
    # The newest migration that rebuilt the index (0031: the delivery exception statuses) holds the same list.
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0031_delivery_exceptions.py"
    spec = importlib.util.spec_from_file_location("migration_0031", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.OPEN_STATUSES_SQL == OPEN_STATUSES_SQL
