"""The order list as CSV for spreadsheets and accountants; every cell neutralised against formulas."""

from collections.abc import Iterator

from checkout.csv_safety import write_csv
from checkout.dates import format_moment, local
from checkout.models.store import get_store_settings
from checkout.money import from_minor
from checkout.orders.queries import OrderFilters, iter_orders

HEADER = [
    "reference",
    "created_at_utc",
    "status",
    "source",
    "customer_name",
    "customer_phone",
    "fulfilment",
    "delivery_address",
    "items",
    "subtotal",
    "delivery_fee",
    "total",
    "currency",
    "payment_method",
    "payment_status",
    "amount_paid",
    "carrier",
    "tracking_number",
    "assigned_to",
    "note",
    "created_at_local",  # in the shop's time zone and locale, as the admin shows it
    # Added later, so they come last and the columns before keep their places.
    "coupon_code",
    "discount",  # taken off the items by the code
    "delivery_discount",  # the delivery fee a free-delivery code waived
    "tracking_url",
    "expected_delivery_date",  # YYYY-MM-DD
    "delivery_window_start_local",  # "YYYY-MM-DD HH:MM" in the shop's time zone
    "delivery_window_end_local",
    "delivery_agent_name",
    "delivery_agent_phone",
]


def _rows(filters: OrderFilters) -> Iterator[list]:
    settings = get_store_settings()
    for order in iter_orders(filters):
        items = "; ".join(
            f"{line.quantity} x {line.product_name}" + (f" ({line.options_label})" if line.options_label else "")
            for line in order.lines
        )
        yield [
            order.reference,
            order.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            order.status,
            order.source,
            order.customer_name,
            order.customer_phone,
            order.fulfilment,
            order.delivery_address,
            items,
            from_minor(order.subtotal_minor, order.currency),
            from_minor(order.delivery_fee_minor, order.currency),
            from_minor(order.total_minor, order.currency),
            order.currency,
            order.payment_method,
            order.payment_status,
            from_minor(order.amount_paid_minor, order.currency),
            order.carrier,
            order.tracking_number,
            order.assigned_to.name if order.assigned_to else "",
            order.note,
            format_moment(order.created_at, settings.zone_name, settings.locale),
            order.coupon_code,
            from_minor(order.discount_minor, order.currency),
            from_minor(order.delivery_discount_minor, order.currency),
            order.tracking_url,
            order.expected_delivery_date.isoformat() if order.expected_delivery_date else "",
            _local_clock(order.delivery_window_start, settings.zone_name),
            _local_clock(order.delivery_window_end, settings.zone_name),
            order.delivery_agent_name,
            order.delivery_agent_phone,
        ]


def _local_clock(moment, zone_name: str) -> str:
    """A moment as a spreadsheet reads it, on the shop's wall clock: '2026-12-01 14:00'."""
    return local(moment, zone_name).strftime("%Y-%m-%d %H:%M") if moment else ""


def orders_csv(filters: OrderFilters) -> str:
    return write_csv(_rows(filters), HEADER)
