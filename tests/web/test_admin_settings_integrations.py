"""Settings for WhatsApp follow-up and the shop's own systems: reminder time, staff alerts, webhook."""

import html

import pytest

from tests.web.test_admin_settings import FORM, owner, stored_settings  # noqa: F401  (fixture reused)


def post(client, **changes):
    return client.post("/admin/settings", data={**FORM, **changes})


def test_reminder_staff_numbers_and_webhook_are_saved_normalised(app, owner):  # noqa: F811
    response = post(
        owner,
        reminder_hours="12",
        staff_alert_numbers="0712 345678\n+254 700 111222\n0712345678",
        webhook_url="https://erp.example.com/hooks/chatout",
        webhook_secret="s3cret-s3cret-s3cret",
    )
    assert response.status_code == 303
    settings = stored_settings(app)
    assert settings.reminder_hours == 12
    assert settings.staff_alert_numbers == ["+254712345678", "+254700111222"]
    assert (settings.webhook_url, settings.webhook_secret) == (
        "https://erp.example.com/hooks/chatout",
        "s3cret-s3cret-s3cret",
    )


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"reminder_hours": "0"}, "reminder_hours", "from 1 to 72"),
        ({"reminder_hours": "100"}, "reminder_hours", "from 1 to 72"),
        ({"staff_alert_numbers": "12345"}, "staff_alert_numbers", "12345:"),
        ({"webhook_url": "ftp://erp.example.com", "webhook_secret": "x" * 20}, "webhook_url", "https://"),
        ({"webhook_url": "https://erp.example.com/h", "webhook_secret": "short"}, "webhook_secret", "at least 16"),
    ],
)
def test_bad_integration_settings_are_explained_and_nothing_saved(app, owner, changes, field, message):  # noqa: F811
    before = stored_settings(app)
    response = post(owner, **changes)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    after = stored_settings(app)
    assert (after.name, after.reminder_hours, after.webhook_url) == (
        before.name,
        before.reminder_hours,
        before.webhook_url,
    )


def test_clearing_the_webhook_url_forgets_the_secret(app, owner):  # noqa: F811
    post(owner, webhook_url="https://erp.example.com/h", webhook_secret="x" * 20)
    post(owner, webhook_url="", webhook_secret="x" * 20)
    settings = stored_settings(app)
    assert (settings.webhook_url, settings.webhook_secret) == ("", "")
