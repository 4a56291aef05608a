"""Changes of one cart at once on PostgreSQL (a double tap, two tabs): each waits for the other's lock and then
sees what it wrote, so no unit is lost and no line is made twice."""

import pytest

from checkout import carts
from checkout.extensions import db
from tests.conftest import ON_POSTGRES
from tests.factories import make_product, make_store
from tests.races import at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]


@pytest.fixture
def cart_with_a_line(app):
    with app.app_context():
        make_store()
        kurta = make_product("Cotton Kurta", stock=50).variants[0]
        tea = make_product("Assam Tea", stock=50).variants[0]
        token = carts.new_cart_token()
        carts.add_item(token, kurta.id, 1, start_channel="website")
        ids = dict(token=token, kurta=kurta.id, tea=tea.id)
        db.session.remove()
    return ids


def lines_of(app, token: str) -> dict[int, int]:
    with app.app_context():
        return {line.variant_id: line.quantity for line in carts.find_cart(token).lines}


def test_adds_of_the_same_item_at_once_each_count(app, cart_with_a_line):
    token, kurta = cart_with_a_line["token"], cart_with_a_line["kurta"]
    results = at_once(app, lambda: carts.add_item(token, kurta, 1).quantity, times=4)
    assert sorted(results) == [2, 3, 4, 5]
    assert lines_of(app, token) == {kurta: 5}


def test_first_adds_of_a_new_item_at_once_make_one_line_with_every_unit(app, cart_with_a_line):
    token, tea = cart_with_a_line["token"], cart_with_a_line["tea"]
    at_once(app, lambda: carts.add_item(token, tea, 2), times=3)
    assert lines_of(app, token) == {cart_with_a_line["kurta"]: 1, tea: 6}
