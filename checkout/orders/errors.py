"""Named domain errors. The web layer turns each into a form message, a 409 or a 422."""

from dataclasses import dataclass


class OrderError(Exception):
    """Base class: something the customer or staff member can be told in plain words."""

    message = "The order could not be processed."

    def __str__(self) -> str:
        return self.message


@dataclass
class Shortage:
    sku: str
    name: str
    requested: int
    available: int


class OutOfStock(OrderError):
    def __init__(self, shortages: list[Shortage]):
        self.shortages = shortages
        parts = [f"{s.name}: only {s.available} left" if s.available else f"{s.name}: sold out" for s in shortages]
        self.message = "Not enough stock — " + "; ".join(parts) + "."


class ProductUnavailable(OrderError):
    def __init__(self, reference: str):
        self.reference = reference
        self.message = f"A product in your cart is no longer available ({reference})."


class InvalidQuantity(OrderError):
    def __init__(self, quantity, maximum: int):
        self.message = f"Quantities must be whole numbers from 1 to {maximum} (got {quantity!r})."


class EmptyCart(OrderError):
    message = "Your cart is empty."


class PriceChanged(OrderError):
    """The total the shopper saw is not the total the catalog gives now."""

    def __init__(self, expected_minor: int, actual_minor: int):
        self.expected_minor = expected_minor
        self.actual_minor = actual_minor
        self.message = "Prices have changed since you opened this page. Please check the new total."


class InvalidOrderDetails(OrderError):
    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message


class TransitionNotAllowed(OrderError):
    def __init__(self, current: str, target: str):
        self.current = current
        self.target = target
        self.message = f"An order that is {current.replace('_', ' ')} cannot become {target.replace('_', ' ')}."


class ReasonRequired(OrderError):
    message = "Please give a reason for cancelling."


class StaleOrder(OrderError):
    """Someone else changed the order since this page was loaded: never overwrite their change."""

    message = "This order was changed by someone else a moment ago. Reload it to see the latest, then try again."


class PaymentRejected(OrderError):
    def __init__(self, message: str):
        self.message = message


class InvalidFulfilment(OrderError):
    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message


class NotAllowedInBulk(OrderError):
    message = "Cancel orders one by one, with a reason for each."
