"""Settings → Payments: the reminder delay, the unpaid limit and what it does, checked as the provider's fields are
(every problem named beside its field, nothing half-saved)."""

import html

import pytest

from checkout.extensions import db
from checkout.models import get_store_settings
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store

URL = "/admin/settings/payments"


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    return client


def stored(app) -> tuple:
    with app.app_context():
        s = get_store_settings()
        found = (s.payment_reminder_after_hours, s.unpaid_limit_hours, s.unpaid_action, s.upi_payee_address)
        db.session.remove()
        return found


def form(**values) -> dict:
    base = {"payment_provider": "", "payment_request_when": "on_demand", "upi_payee_address": "", "upi_payee_name": ""}
    base |= {"pix_key": "", "pix_merchant_name": "", "pix_merchant_city": ""}
    base |= {"payment_reminder_after_hours": "24", "unpaid_limit_hours": "0", "unpaid_action": "flag"}
    return base | values


def test_the_page_shows_the_defaults_and_saves_new_values(app, owner):
    page = html.unescape(owner.get(URL).get_data(as_text=True))
    assert 'name="payment_reminder_after_hours" value="24"' in page and 'name="unpaid_limit_hours" value="0"' in page
    assert "Cancel the order and release its stock" in page
    saved = owner.post(
        URL, data=form(payment_reminder_after_hours=" 6 ", unpaid_limit_hours="48", unpaid_action="cancel")
    )
    assert saved.status_code == 303
    assert stored(app) == (6, 48, "cancel", "")
    page = owner.get(URL).get_data(as_text=True)
    assert 'value="48"' in page and '<option value="cancel" selected>' in page


def test_zero_turns_the_reminder_and_the_limit_off(app, owner):
    assert owner.post(URL, data=form(payment_reminder_after_hours="0", unpaid_limit_hours="0")).status_code == 303
    assert stored(app)[:2] == (0, 0)


@pytest.mark.parametrize(
    ("values", "field", "problem"),
    [
        (
            {"payment_reminder_after_hours": "soon"},
            "payment_reminder_after_hours",
            "The reminder delay is a whole number",
        ),
        (
            {"payment_reminder_after_hours": "-1"},
            "payment_reminder_after_hours",
            "The reminder delay is a whole number",
        ),
        ({"unpaid_limit_hours": "1.5"}, "unpaid_limit_hours", "The unpaid limit is a whole number"),
        ({"unpaid_limit_hours": "99999"}, "unpaid_limit_hours", "The unpaid limit is a whole number"),
        ({"unpaid_limit_hours": "٣"}, "unpaid_limit_hours", "The unpaid limit is a whole number"),
        ({"unpaid_action": "delete"}, "unpaid_action", "Choose what happens to an order unpaid past the limit."),
        (
            {"unpaid_limit_hours": "12"},
            "unpaid_limit_hours",
            "The unpaid limit must be longer than the reminder delay (24 hours)",
        ),
    ],
)
def test_each_problem_is_named_beside_its_field_and_nothing_is_saved(app, owner, values, field, problem):
    refused = owner.post(URL, data=form(upi_payee_address="sunrise@okaxis", **values))
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert f'id="{field}-error">{problem}' in text
    assert stored(app) == (24, 0, "flag", "")  # the valid UPI ID beside it was not saved either
