"""Named domain errors, each with a stable code. checkout/orders/error_responses.py says how each is answered."""

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """What went wrong, for code to test (templates, the web layer, the API); the words are for people."""

    INVALID_DETAILS = "invalid_details"
    OUT_OF_STOCK = "out_of_stock"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    PENDING_UNITS_LIMIT = "pending_units_limit"
    INVALID_QUANTITY = "invalid_quantity"
    EMPTY_CART = "empty_cart"
    PRICE_CHANGED = "price_changed"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    REASON_REQUIRED = "reason_required"
    STALE_ORDER = "stale_order"
    PAYMENT_REJECTED = "payment_rejected"
    INVALID_FULFILMENT = "invalid_fulfilment"
    NOT_ALLOWED_IN_BULK = "not_allowed_in_bulk"
    REFUND_DECISION_NEEDED = "refund_decision_needed"
    REFUND_FAILED = "refund_failed"
    COUPON_UNKNOWN = "coupon_unknown"
    COUPON_PAUSED = "coupon_paused"
    COUPON_NOT_STARTED = "coupon_not_started"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_MINIMUM_NOT_REACHED = "coupon_minimum_not_reached"
    COUPON_USED_UP = "coupon_used_up"
    COUPON_ALREADY_USED = "coupon_already_used"
    COUPON_NOT_FOR_THESE_ITEMS = "coupon_not_for_these_items"
    CART_NOT_FOUND = "cart_not_found"
    CART_FULL = "cart_full"
    CART_ALREADY_ORDERED = "cart_already_ordered"
    RETURN_NOT_ALLOWED = "return_not_allowed"
    DELIVERY_CHOICE_REFUSED = "delivery_choice_refused"


class ProblemReason(StrEnum):
    """Why one field was refused: the API words its answers by this, the storefront shows the message."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_OFFERED = "not_offered"
    NOT_ENOUGH = "not_enough"
    NOT_ACCEPTED = "not_accepted"


@dataclass(frozen=True)
class FieldProblem:
    """One field's problem: `field` names an order detail ("name", "address"...) or a SKU."""

    field: str
    message: str
    reason: ProblemReason
    limit: int | None = None  # the most characters or units allowed, when that is the problem
    choices: tuple[str, ...] = ()  # what may be chosen, when the choice is the problem


class OrderError(Exception):
    """Base class: something the customer or staff member can be told in plain words."""

    code: ErrorCode
    message = "The order could not be processed."

    def __str__(self) -> str:
        return self.message

    @property
    def problems(self) -> list[FieldProblem]:
        """The fields this error is about, each with its own message; empty when it is about the whole order."""
        return []


@dataclass
class Shortage:
    sku: str
    name: str
    requested: int
    available: int


class OutOfStock(OrderError):
    code = ErrorCode.OUT_OF_STOCK

    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        parts = [f"{s.name}: only {s.available} left" if s.available else f"{s.name}: sold out" for s in shortages]
        self.message = "Not enough stock — " + "; ".join(parts) + "."

    @property
    def problems(self) -> list[FieldProblem]:
        return [
            FieldProblem(s.sku, f"Only {s.available} available.", ProblemReason.NOT_ENOUGH, limit=s.available)
            for s in self.shortages
        ]


class ProductUnavailable(OrderError):
    code = ErrorCode.PRODUCT_UNAVAILABLE

    def __init__(self, reference: str):
        self.reference = reference
        self.message = f"A product in your cart is no longer available ({reference})."


class PendingUnitsLimitReached(OrderError):
    """One phone number may hold only so many units in orders not yet confirmed (a store setting)."""

    code = ErrorCode.PENDING_UNITS_LIMIT

    def __init__(self, held: int, wanted: int, limit: int):
        self.held, self.wanted, self.limit = held, wanted, limit
        if held:
            self.message = (
                f"This number already has {held} item{'s' if held != 1 else ''} in orders waiting for "
                f"confirmation, and one number can hold at most {limit} at a time. Confirm or cancel those "
                "orders on WhatsApp first, or order fewer."
            )
        else:
            self.message = (
                f"One number can order at most {limit} items at a time until an order is confirmed; this order "
                f"has {wanted}. Please order fewer, or ask the shop on WhatsApp about a larger order."
            )

    @property
    def problems(self) -> list[FieldProblem]:
        return [FieldProblem("phone", self.message, ProblemReason.NOT_ENOUGH, limit=self.limit)]


class InvalidQuantity(OrderError):
    code = ErrorCode.INVALID_QUANTITY

    def __init__(self, quantity, maximum: int):
        self.message = f"Quantities must be whole numbers from 1 to {maximum} (got {quantity!r})."


class EmptyCart(OrderError):
    code = ErrorCode.EMPTY_CART
    message = "Your cart is empty."


class PriceChanged(OrderError):
    """The total the shopper saw is not the total the catalog gives now."""

    code = ErrorCode.PRICE_CHANGED

    def __init__(self, expected_minor: int, actual_minor: int):
        self.expected_minor = expected_minor
        self.actual_minor = actual_minor
        self.message = "Prices have changed since you opened this page. Please check the new total."


class InvalidOrderDetails(OrderError):
    """The customer's details break the order rules: every problem found, not just the first."""

    code = ErrorCode.INVALID_DETAILS

    def __init__(self, problems: list[FieldProblem]):
        self._problems = list(problems)
        self.field = self._problems[0].field
        self.message = self._problems[0].message

    @property
    def problems(self) -> list[FieldProblem]:
        return self._problems


class TransitionNotAllowed(OrderError):
    code = ErrorCode.TRANSITION_NOT_ALLOWED

    def __init__(self, current: str, target: str):
        self.current = current
        self.target = target
        self.message = f"An order that is {current.replace('_', ' ')} cannot become {target.replace('_', ' ')}."


class ReasonRequired(OrderError):
    code = ErrorCode.REASON_REQUIRED
    message = "Please give a reason for cancelling."


class StaleOrder(OrderError):
    """Someone else changed the order since this page was loaded: never overwrite their change."""

    code = ErrorCode.STALE_ORDER
    message = "This order was changed by someone else a moment ago. Reload it to see the latest, then try again."


class PaymentRejected(OrderError):
    code = ErrorCode.PAYMENT_REJECTED

    def __init__(self, message: str):
        self.message = message


class RefundFailed(OrderError):
    """The payment provider did not give the money back (down, refused): nothing was recorded."""

    code = ErrorCode.REFUND_FAILED

    def __init__(self, message: str):
        self.message = message


class InvalidFulfilment(OrderError):
    code = ErrorCode.INVALID_FULFILMENT

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message


class ReturnNotAllowed(OrderError):
    """A return step that does not fit where the return stands (approving a rejected one, a second refund)."""

    code = ErrorCode.RETURN_NOT_ALLOWED

    def __init__(self, message: str):
        self.message = message


class NotAllowedInBulk(OrderError):
    code = ErrorCode.NOT_ALLOWED_IN_BULK
    message = "Cancel orders one by one, with a reason for each."


class RefundDecisionNeeded(OrderError):
    """Cancelling an order the customer has paid for: staff must say whether the money goes back now."""

    code = ErrorCode.REFUND_DECISION_NEEDED

    def __init__(self, amount_paid: str):
        self.amount_paid = amount_paid
        self.message = (
            f"The customer has paid {amount_paid} on this order. Choose whether to refund it now or keep it for now."
        )


class CouponNotAccepted(OrderError):
    """A discount code that cannot be used on this cart: each kind of refusal is a subclass with its own code.

    The problem sits under the "coupon_code" field, so the checkout form shows it beside the code box and the
    Store API names that field.
    """

    def __init__(self, code: str, message: str):
        self.coupon_code = code
        self.message = message

    @property
    def problems(self) -> list[FieldProblem]:
        return [FieldProblem("coupon_code", self.message, ProblemReason.NOT_ACCEPTED)]


class CouponUnknown(CouponNotAccepted):
    code = ErrorCode.COUPON_UNKNOWN

    def __init__(self, code: str):
        super().__init__(code, f"There is no discount code {code!r}. Check the spelling.")


class CouponPaused(CouponNotAccepted):
    code = ErrorCode.COUPON_PAUSED

    def __init__(self, code: str):
        super().__init__(code, f"The code {code} is not available at the moment.")


class CouponNotStarted(CouponNotAccepted):
    code = ErrorCode.COUPON_NOT_STARTED

    def __init__(self, code: str, starts: str):
        super().__init__(code, f"The code {code} can be used from {starts}.")


class CouponExpired(CouponNotAccepted):
    code = ErrorCode.COUPON_EXPIRED

    def __init__(self, code: str, ended: str):
        super().__init__(code, f"The code {code} expired on {ended}.")


class CouponMinimumNotReached(CouponNotAccepted):
    code = ErrorCode.COUPON_MINIMUM_NOT_REACHED

    def __init__(self, code: str, minimum: str, missing: str, missing_minor: int):
        self.missing_minor = missing_minor
        super().__init__(code, f"The code {code} needs a subtotal of at least {minimum}: add {missing} more.")


class CouponUsedUp(CouponNotAccepted):
    code = ErrorCode.COUPON_USED_UP

    def __init__(self, code: str):
        super().__init__(code, f"The code {code} has been used as many times as the shop allows.")


class CouponAlreadyUsed(CouponNotAccepted):
    code = ErrorCode.COUPON_ALREADY_USED

    def __init__(self, code: str, limit: int):
        times = "once" if limit == 1 else f"{limit} times"
        super().__init__(code, f"The code {code} can be used {times} per customer, and this number already has.")


class CouponNotForTheseItems(CouponNotAccepted):
    code = ErrorCode.COUPON_NOT_FOR_THESE_ITEMS

    def __init__(self, code: str):
        super().__init__(code, f"The code {code} does not apply to anything in your cart.")


class CartNotFound(OrderError):
    """No cart has this token: it never existed, or it sat idle past the shop's expiry and was deleted."""

    code = ErrorCode.CART_NOT_FOUND
    message = "This cart is no longer here: carts left untouched for a while are cleared."


class CartFull(OrderError):
    code = ErrorCode.CART_FULL

    def __init__(self, most_lines: int):
        self.message = f"A cart can hold at most {most_lines} different items."


class CartAlreadyOrdered(OrderError):
    """A cart makes one order; once placed it no longer changes (its order keeps its own copy)."""

    code = ErrorCode.CART_ALREADY_ORDERED
    message = "This cart has already been ordered. Start a new cart to order again."


class DeliveryChoiceRefused(OrderError):
    """A choice after a failed delivery that cannot be taken now (the order moved on, a day not offered…)."""

    code = ErrorCode.DELIVERY_CHOICE_REFUSED

    def __init__(self, message: str):
        self.message = message
