"""The staff side: sign-in, order desk, catalog and stock, discount codes, settings, staff accounts, dashboard."""

# Routes register on the blueprint (admin/blueprint.py) when their modules are imported.
from admin import (  # noqa: F401
    auth,
    catalog,
    chat_media,
    coupons,
    dashboard,
    faq,
    inbox,
    messages,
    orders,
    returns,
    settings,
    settings_chat_texts,
    settings_couriers,
    settings_payments,
    staff,
    website,
)
from admin.blueprint import admin_blueprint

__all__ = ["admin_blueprint"]
