"""Settings → After delivery: the follow-up is off by default, 3 to 7 days when on, anything else refused with
a note beside the field and nothing saved; the shop's other settings are untouched."""

import pytest

from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.shop.settings import InvalidSettings, SettingsChange, check_settings_change
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store(name="Sunrise")
        make_staff("owner")
    sign_in(client, "owner@sunrise.example.com")
    return client


def stored(app) -> tuple[int, str]:
    with app.app_context():
        settings = get_store_settings()
        found = (settings.follow_up_after_days, settings.name)
        db.session.remove()
        return found


def save(client, days: str):
    return client.post("/admin/settings", data={"section": "after_delivery", "follow_up_after_days": days})


def test_off_by_default_then_on_then_off_again(app, owner):
    assert stored(app) == (0, "Sunrise")
    assert save(owner, "7").status_code == 303
    assert stored(app) == (7, "Sunrise")
    assert '<option selected value="7">' in owner.get("/admin/settings").get_data(as_text=True)
    assert save(owner, "0").status_code == 303
    assert stored(app) == (0, "Sunrise")


@pytest.mark.parametrize("days", ["2", "8", "-1", "soon"])
def test_a_delay_outside_three_to_seven_days_is_refused_and_nothing_saved(app, owner, days):
    save(owner, "4")
    refused = save(owner, days)
    assert refused.status_code == 422
    assert "Follow-up after delivery" in refused.get_data(as_text=True)
    assert stored(app) == (4, "Sunrise")


@pytest.mark.parametrize("days", [1, 2, 8, 30])
def test_the_domain_refuses_other_delays_too(app_context, days):
    make_store()
    change = SettingsChange(
        name="Shop", tagline="", logo_url="", whatsapp_number="", currency="INR", locale="en_IN", default_region="IN",
        delivery_fee="0", free_delivery_threshold="", pickup_enabled=True, pickup_address="", reservation_hours=24,
        low_stock_threshold=5, payment_methods=("cod",), follow_up_after_days=days,
    )  # fmt: skip
    with pytest.raises(InvalidSettings) as refused:
        check_settings_change(change)
    assert refused.value.errors["follow_up_after_days"] == "Choose off, or 3 to 7 days."
