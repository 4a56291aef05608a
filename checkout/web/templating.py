"""Jinja filters and globals: formatting at the edge, nothing decided here."""

from flask import Flask
from flask_login import current_user
from sqlalchemy import inspect

from checkout.catalog.picture_sizes import Picture, picture_for
from checkout.catalog.values import format_duration
from checkout.dates import format_day, format_moment
from checkout.models.store import PAYMENT_METHOD_LABELS, StoreSettings, get_store_settings
from checkout.money import format_money
from checkout.orders.lifecycle import STATUS_LABELS, OrderStatus
from checkout.orders.payment_states import payment_state_label
from checkout.phones import display_phone
from checkout.service_sessions import format_time_left
from checkout.web import page_cache
from checkout.whatsapp.media import MediaView, view_of


def register(app: Flask) -> None:
    @app.template_filter("money")
    def money_filter(amount_minor: int, currency: str | None = None) -> str:
        settings = settings_for_display()
        return format_money(amount_minor, currency or settings.currency, settings.locale)

    @app.template_filter("moment")
    def moment_filter(at, style: str = "datetime") -> str:
        settings = settings_for_display()
        return format_moment(at, settings.zone_name, settings.locale, style)

    @app.template_filter("day")
    def day_filter(day) -> str:
        """A calendar day (a `date`, already the shop's) in the shop's locale: '2 Jan 2026'."""
        return format_day(day, settings_for_display().locale)

    @app.template_filter("duration")
    def duration_filter(minutes: int | None) -> str:
        return format_duration(minutes)

    @app.template_filter("time_left")
    def time_left_filter(seconds: int) -> str:
        return format_time_left(seconds)

    @app.template_filter("status_label")
    def status_label(status: str) -> str:
        return STATUS_LABELS.get(OrderStatus(status), status)

    @app.template_filter("payment_label")
    def payment_label(method: str) -> str:
        return PAYMENT_METHOD_LABELS.get(method, method)

    @app.template_filter("payment_state_label")
    def payment_state_label_filter(state: str, order_status: str = "") -> str:
        """An order's payment state as staff read it: "Awaiting payment", "Partly refunded"…"""
        return payment_state_label(state, order_status)

    @app.template_filter("phone")
    def phone_filter(e164: str) -> str:
        return display_phone(e164)

    @app.template_global("media_of")
    def media_of(message) -> MediaView | None:
        """The picture, document or voice note a message carries (templates/admin/_message_media.html)."""
        return view_of(message)

    @app.template_global("picture_for")
    def picture_for_template(image_url: str) -> Picture | None:
        return picture_for(image_url, app.static_folder, app.static_url_path)

    @app.context_processor
    def shop_context():
        return {"store": settings_for_display(), "current_user": current_user}


def settings_for_display() -> StoreSettings:
    """A copy of the shop's settings for pages to show, reused like the rendered pages (page_cache).

    Pages only read the name, currency and the like; reading the row costs a reused catalog page most of
    its time. The copy is never added to a session: code that changes settings uses get_store_settings().
    """
    return page_cache.reuse(("store-settings",), _copy_of_settings, watch="settings")


def _copy_of_settings() -> StoreSettings:
    row = get_store_settings()
    return StoreSettings(
        **{attribute.key: getattr(row, attribute.key) for attribute in inspect(StoreSettings).column_attrs}
    )
