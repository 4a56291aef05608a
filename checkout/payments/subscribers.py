"""When the shop asks to be paid without anyone pressing a button (at order creation or on confirmation),
and when an open request is settled (a payment recorded: paid or no longer the right amount; a cancellation).

Subscribed to the order domain's events (registered by the app factory); runs in the transaction of the
change, so the request and its message exist exactly when the order (or its confirmation) does.
"""

from checkout import events
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders.lifecycle import OrderStatus
from checkout.payments.providers import REQUEST_AT_ORDER_CREATION, REQUEST_WHEN_STAFF_CONFIRM, is_requested_for
from checkout.payments.requests import PaymentNotRequested, open_payment_request, open_requests_of


def _request_if_due(order: Order, trigger: str) -> None:
    if not is_requested_for(order, trigger, get_store_settings()):
        return
    try:
        open_payment_request(order, trigger)
    except PaymentNotRequested:
        return  # nothing owed (a fully discounted order): nothing to ask


@events.subscribe(events.ORDER_CREATED)
def request_payment_at_order_creation(order: Order) -> None:
    _request_if_due(order, REQUEST_AT_ORDER_CREATION)


@events.subscribe(events.ORDER_STATUS_CHANGED)
def request_payment_on_confirmation(order: Order, event) -> None:
    """Any move to confirmed counts (staff on the desk, or the customer's Confirm tap in WhatsApp)."""
    if order.status == OrderStatus.CONFIRMED:
        _request_if_due(order, REQUEST_WHEN_STAFF_CONFIRM)


def _close_open_requests(order: Order) -> None:
    """A payment or a cancellation settles what the open request asked: paid in full, or no longer right."""
    for request in open_requests_of(order):
        request.status = "paid" if order.balance_minor <= 0 and order.status != OrderStatus.CANCELLED else "expired"


@events.subscribe(events.PAYMENT_RECORDED)
def close_requests_on_payment(order: Order, payment, tell_customer: bool = True) -> None:
    _close_open_requests(order)


@events.subscribe(events.ORDER_STATUS_CHANGED)
def close_requests_on_cancellation(order: Order, event) -> None:
    if order.status == OrderStatus.CANCELLED:
        _close_open_requests(order)
