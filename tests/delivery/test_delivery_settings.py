"""The shop's delivery time and its status message switches, through the admin settings pages."""

import pytest

from tests.factories import make_store
from tests.web.test_admin_settings import FORM, make_staff, page_text, sign_in, stored_settings

DELIVERY = {
    "section": "delivery",
    "delivery_fee": "50",
    "free_delivery_threshold": "",
    "pickup_enabled": "y",
    "pickup_address": "12 Market Road",
    "reservation_hours": "24",
    "max_pending_units_per_phone": "40",
    "delivery_days_min": "2",
    "delivery_days_max": "4",
    "delivery_area_days": "560=1-2\r\nKasarani = 3",
}
MESSAGES = {name: value for name, value in FORM.items() if name.startswith("message_")}


@pytest.fixture
def owner(app, client):
    with app.app_context():
        make_store()
    sign_in(client, make_staff(app, "owner"))
    return client


def test_the_delivery_time_and_areas_are_saved_with_the_delivery_section(app, owner):
    assert owner.post("/admin/settings", data=DELIVERY).status_code == 303
    settings = stored_settings(app)
    assert (settings.delivery_days_min, settings.delivery_days_max) == (2, 4)
    assert settings.delivery_area_days == "560=1-2\nKasarani = 3"
    page = page_text(owner.get("/admin/settings"))
    assert "Delivery takes at least (days)" in page and "560=1-2" in page


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"delivery_days_min": "5", "delivery_days_max": "2"}, "can't be shorter than the shortest"),
        ({"delivery_days_max": "61"}, "from 0 to 60"),
        ({"delivery_days_min": "-1"}, "from 0 to 60"),
        ({"delivery_area_days": "560=1-2\nnonsense"}, "Line 2 (nonsense)"),
        ({"delivery_days_max": "four"}, "Not a valid integer value"),
    ],
)
def test_a_wrong_delivery_time_is_explained_and_nothing_is_saved(app, owner, fields, says):
    response = owner.post("/admin/settings", data={**DELIVERY, **fields})
    assert response.status_code == 422
    assert says in page_text(response)
    settings = stored_settings(app)
    assert (settings.delivery_days_min, settings.delivery_days_max, settings.delivery_area_days) == (0, 0, "")


def test_saving_another_section_keeps_the_delivery_time(app, owner):
    owner.post("/admin/settings", data=DELIVERY)
    owner.post("/admin/settings", data={"section": "shop", "name": "Mama Mboga", "tagline": "", "logo_url": ""})
    settings = stored_settings(app)
    assert (settings.name, settings.delivery_days_max, settings.delivery_area_days[:7]) == ("Mama Mboga", 4, "560=1-2")


def test_the_message_page_switches_status_messages_off_and_on(app, owner):
    page = page_text(owner.get("/admin/settings/messages"))
    assert 'id="send_preparing" name="send_preparing" type="checkbox" value="y"' in page
    assert "send_confirmed" not in page and "send_cancelled" not in page  # always sent

    switched = {**MESSAGES, "message_switches": "1", "send_shipped": "y", "send_out_for_delivery": "y"}
    assert owner.post("/admin/settings/messages", data=switched).status_code == 303
    assert stored_settings(app).silent_statuses == ["preparing", "ready_for_pickup", "delivered"]

    # Texts saved from a form without the switches (an older page) leave them as they are.
    assert owner.post("/admin/settings/messages", data=MESSAGES).status_code == 303
    assert stored_settings(app).silent_statuses == ["preparing", "ready_for_pickup", "delivered"]

    on = {
        **MESSAGES,
        "message_switches": "1",
        **{f"send_{k}": "y" for k in ("preparing", "shipped", "out_for_delivery")},
    }
    on.update(send_ready_for_pickup="y", send_delivered="y")
    assert owner.post("/admin/settings/messages", data=on).status_code == 303
    assert stored_settings(app).silent_statuses == []


def test_a_refused_text_saves_no_switch_either(app, owner):
    refused = {**MESSAGES, "message_switches": "1", "message_shipped": "Sent {nope}"}
    assert owner.post("/admin/settings/messages", data=refused).status_code == 422
    assert stored_settings(app).silent_statuses == []


def test_the_preview_shows_window_and_agent(app, owner):
    response = owner.post(
        "/admin/settings/messages/out_for_delivery/preview",
        data={"message_out_for_delivery": "With {agent_name} ({agent_phone}), {delivery_window}"},
        headers={"HX-Request": "true"},
    )
    assert "With Ravi (+919812345678), today 2:00 pm–5:00 pm" in page_text(response)


def test_approving_a_new_address_after_a_failed_delivery_is_on_until_the_shop_turns_it_off(app, owner):
    assert stored_settings(app).address_change_needs_approval is True
    page = page_text(owner.get("/admin/settings"))
    assert "Staff approve a new address after a failed delivery" in page
    assert owner.post("/admin/settings", data=DELIVERY).status_code == 303  # the box left unticked
    assert stored_settings(app).address_change_needs_approval is False
    owner.post("/admin/settings", data={"section": "shop", "name": "Mama Mboga", "tagline": "", "logo_url": ""})
    assert stored_settings(app).address_change_needs_approval is False  # another section keeps it
    owner.post("/admin/settings", data={**DELIVERY, "address_change_needs_approval": "y"})
    assert stored_settings(app).address_change_needs_approval is True
