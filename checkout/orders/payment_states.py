"""An order's payment state as shops see it, beside its fulfilment status: the one rule, and its SQL.

The state is kept on the order (orders.payment_status, indexed for the desk's filter) and worked out again by
`refresh_payment_state` each time money moves in or out; every screen, filter and count reads that column.
A refund takes its amount off what the order owes, so a partly refunded order owes nothing more.
"""

from sqlalchemy import and_

from checkout.models.orders import Order
from checkout.orders.lifecycle import OrderStatus

CANCELLED = OrderStatus.CANCELLED.value

AWAITING_PAYMENT = "unpaid"
PARTLY_PAID = "partially_paid"
PAID = "paid"
PARTLY_REFUNDED = "partly_refunded"
REFUNDED = "refunded"

# In the order a shop follows the money; the words staff read on the desk, the dashboard and the order page.
PAYMENT_STATE_LABELS = {
    AWAITING_PAYMENT: "Awaiting payment",
    PARTLY_PAID: "Partly paid",
    PAID: "Paid",
    PARTLY_REFUNDED: "Partly refunded",
    REFUNDED: "Refunded",
}
# Nothing more is owed: "I paid" is answered with the receipt, and no payment is asked for.
SETTLED_STATES = frozenset({PAID, PARTLY_REFUNDED})


def payment_state_for(total_minor: int, paid_minor: int, refunded_minor: int) -> str:
    """The state of an order of `total_minor` with `paid_minor` kept (paid less refunded) and `refunded_minor`
    given back."""
    if paid_minor <= 0:
        return REFUNDED if refunded_minor > 0 else AWAITING_PAYMENT
    if paid_minor >= total_minor:
        return PAID
    if paid_minor + refunded_minor < total_minor:
        return PARTLY_PAID
    return PARTLY_REFUNDED


def refresh_payment_state(order: Order) -> None:
    """Work the order's state out again after money moved (the caller holds the order's lock)."""
    order.payment_status = payment_state_for(
        order.total_minor, order.amount_paid_minor or 0, order.amount_refunded_minor or 0
    )


NOT_PAID_LABEL = "Not paid"  # a cancelled order nobody paid: nothing is awaited


def payment_state_label(state: str, order_status: str = "") -> str:
    """The words for `state` (of an order in `order_status`, when known)."""
    if state == AWAITING_PAYMENT and order_status == CANCELLED:
        return NOT_PAID_LABEL
    return PAYMENT_STATE_LABELS.get(state, state.replace("_", " ").capitalize())


def payment_state_condition(state: str):
    """The SQL condition of the orders in `state`, for the desk's filter and the dashboard's counts.

    A cancelled order with nothing paid is not awaiting payment: nobody waits for that money.
    """
    if state == AWAITING_PAYMENT:
        return and_(Order.payment_status == AWAITING_PAYMENT, Order.status != CANCELLED)
    return Order.payment_status == state
