"""The shop's return window, through the admin settings page's delivery section."""

import pytest

from tests.delivery.test_delivery_settings import DELIVERY
from tests.factories import make_store
from tests.web.test_admin_settings import make_staff, page_text, sign_in, stored_settings


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
    sign_in(client, make_staff(app, "owner"))
    return client


def test_the_return_window_is_seven_days_until_the_shop_changes_it(app, owner):
    assert stored_settings(app).return_window_days == 7
    assert owner.post("/admin/settings", data={**DELIVERY, "return_window_days": "14"}).status_code == 303
    assert stored_settings(app).return_window_days == 14
    assert "Returns in the chat for (days after delivery)" in page_text(owner.get("/admin/settings"))
    owner.post("/admin/settings", data={"section": "shop", "name": "Mama Mboga", "tagline": "", "logo_url": ""})
    assert stored_settings(app).return_window_days == 14  # another section keeps it


def test_zero_turns_returns_in_the_chat_off(app, owner):
    assert owner.post("/admin/settings", data={**DELIVERY, "return_window_days": "0"}).status_code == 303
    assert stored_settings(app).return_window_days == 0


@pytest.mark.parametrize("typed", ["366", "-1", "a week"])
def test_a_wrong_return_window_is_explained_and_nothing_is_saved(app, owner, typed):
    response = owner.post("/admin/settings", data={**DELIVERY, "return_window_days": typed})
    assert response.status_code == 422
    assert "from 0 to 365" in page_text(response) or "Not a valid integer value" in page_text(response)
    assert stored_settings(app).return_window_days == 7
