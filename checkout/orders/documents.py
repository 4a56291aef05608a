"""An order as other systems read it: the Store API and the shop's own webhooks get the same document.

One function lists the order's outside fields, so a field added for one reader reaches the other too.
The public status (for anyone holding the status link) is the other, smaller document: no phone, no address.
"""

from checkout.dates import format_day, format_window
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.customer_timeline import customer_timeline
from checkout.orders.lifecycle import OrderStatus
from checkout.web.urls import status_url


def order_document(order: Order, settings: StoreSettings) -> dict:
    """The whole order for the shop's systems and API callers; `*_display` are ready to show as they are."""
    money = lambda amount: format_money(amount, order.currency, settings.locale)  # noqa: E731
    return {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "source": order.source,
        "currency": order.currency,
        "subtotal_minor": order.subtotal_minor,
        "delivery_fee_minor": order.delivery_fee_minor,
        "discount_minor": order.discount_minor,
        "delivery_discount_minor": order.delivery_discount_minor,
        "coupon_code": order.coupon_code or None,
        "total_minor": order.total_minor,
        "amount_paid_minor": order.amount_paid_minor,
        "subtotal_display": money(order.subtotal_minor),
        "delivery_fee_display": money(order.delivery_fee_minor),
        "discount_display": money(order.discount_minor),
        "total_display": money(order.total_minor),
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "options": line.options_label,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "line_total_minor": line.line_total_minor,
            }
            for line in order.lines
        ],
        "status_url": status_url(order),
        "created_at": order.created_at.isoformat() if order.created_at else None,
        "fulfilment": order.fulfilment,
        "delivery_address": order.delivery_address,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "external_reference": order.external_reference,
        "customer": {"name": order.customer_name, "phone": order.customer_phone, "address": order.delivery_address},
        "delivery": delivery_document(order, settings),
    }


def _moment(at) -> str | None:
    return at.isoformat() if at else None


def delivery_document(order: Order, settings: StoreSettings) -> dict:
    """Carrier, tracking, expected date, window and agent: the same in the order document and the public status.

    Moments are ISO 8601 in UTC; `*_display` are the shop's zone and locale, with a date (never "today": the
    reader may keep the document for days).
    """
    return {
        "carrier": order.carrier or None,
        "tracking_number": order.tracking_number or None,
        "tracking_url": order.tracking_url or None,
        "expected_date": order.expected_delivery_date.isoformat() if order.expected_delivery_date else None,
        "expected_date_display": format_day(order.expected_delivery_date, settings.locale),
        "window_start": _moment(order.delivery_window_start),
        "window_end": _moment(order.delivery_window_end),
        "window_display": format_window(
            order.delivery_window_start, order.delivery_window_end, settings.zone_name, settings.locale
        ),
        "agent_name": order.delivery_agent_name or None,
        "agent_phone": order.delivery_agent_phone or None,
    }


def public_status_document(order: Order, settings: StoreSettings) -> dict:
    """For anyone holding the status token: no customer's phone, no address (the delivery agent's number is
    there: it is for the customer to reach them)."""
    return {
        "reference": order.reference,
        "status": order.status,
        "status_label": OrderStatus(order.status).label,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "lines": [
            {"name": line.product_name, "options": line.options_label, "quantity": line.quantity}
            for line in order.lines
        ],
        # Only what the customer may see (customer_timeline); "created" kept as the placed entry's kind.
        "timeline": [
            {
                "at": entry.at.isoformat(),
                "kind": "created" if entry.kind == "placed" else entry.kind,
                "status": entry.status,
                "label": entry.title,
            }
            for entry in customer_timeline(order)
        ],
        "delivery": delivery_document(order, settings),
    }
