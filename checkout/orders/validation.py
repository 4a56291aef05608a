"""The order rules for a customer's details, checked in one place for the storefront, the API and placing.

Forms and API parsing only read values (is it text, is it a phone number); whether the details make an
order is decided here, and every problem is reported at once so the customer fixes them in one go.
"""

from dataclasses import dataclass

from checkout.models.store import StoreSettings
from checkout.orders.errors import FieldProblem, InvalidOrderDetails, ProblemReason
from checkout.unicode_safety import strip_bidi_controls

ADDRESS_MAX = 500
NOTE_MAX = 500
NAME_MAX = 80
FULFILMENTS = ("delivery", "pickup")


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    phone: str  # E.164, already normalised
    fulfilment: str  # "delivery" or "pickup"
    address: str
    payment_method: str
    note: str = ""


def _too_long(field: str, text: str, limit: int) -> list[FieldProblem]:
    if len(text) <= limit:
        return []
    return [
        FieldProblem(field, f"Field cannot be longer than {limit} characters.", ProblemReason.TOO_LONG, limit=limit)
    ]


def _name_problems(name: str) -> list[FieldProblem]:
    if not strip_bidi_controls(name or "").strip():
        return [FieldProblem("name", "Please tell us your name.", ProblemReason.REQUIRED)]
    return _too_long("name", name, NAME_MAX)


def fulfilment_problems(fulfilment, settings: StoreSettings) -> list[FieldProblem]:
    """Delivery or pickup, as far as this shop offers them (a price quote asks this alone)."""
    offered = FULFILMENTS if settings.pickup_enabled else ("delivery",)
    if fulfilment in offered:
        return []
    if not fulfilment:
        message = "Choose delivery or pickup."
    elif fulfilment == "pickup":
        message = "This shop does not offer pickup."
    else:
        message = "Not a valid choice."
    return [FieldProblem("fulfilment", message, ProblemReason.NOT_OFFERED, choices=offered)]


def _payment_problems(method, settings: StoreSettings) -> list[FieldProblem]:
    offered = tuple(settings.payment_methods or ())
    if method and method in offered:
        return []
    message = "Not a valid choice." if method else "Choose how you'll pay."
    return [FieldProblem("payment_method", message, ProblemReason.NOT_OFFERED, choices=offered)]


def order_details_problems(details: CustomerDetails, settings: StoreSettings) -> list[FieldProblem]:
    """Every problem with `details`, in the order the checkout form asks for them; empty when they make an order."""
    problems = _name_problems(details.name)
    if not details.phone:
        problems.append(FieldProblem("phone", "Please enter your WhatsApp number.", ProblemReason.REQUIRED))
    problems += fulfilment_problems(details.fulfilment, settings)
    address = details.address or ""
    if details.fulfilment == "delivery" and not address.strip():
        problems.append(FieldProblem("address", "Please give the delivery address.", ProblemReason.REQUIRED))
    problems += _too_long("address", address, ADDRESS_MAX)
    problems += _payment_problems(details.payment_method, settings)
    problems += _too_long("note", details.note or "", NOTE_MAX)
    return problems


def validate_order_details(details: CustomerDetails, settings: StoreSettings) -> None:
    """Raise InvalidOrderDetails listing every problem with `details`; return quietly when there is none."""
    problems = order_details_problems(details, settings)
    if problems:
        raise InvalidOrderDetails(problems)
