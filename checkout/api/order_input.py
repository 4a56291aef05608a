"""Reading a Store API order request: every problem found at once, named by its field.

Parsing here only reads the JSON (is it text, a whole number, a known SKU); the order rules are the
domain's (checkout/orders/validation.py, pricing.py), worded here the way the API words its answers.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.catalog import Product, Variant
from checkout.models.coupons import CODE_MAX
from checkout.models.store import StoreSettings
from checkout.orders.error_responses import api_field
from checkout.orders.errors import FieldProblem, InvalidQuantity, ProblemReason
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY, validate_quantity
from checkout.orders.validation import CustomerDetails, fulfilment_problems, order_details_problems
from checkout.phones import InvalidPhone, normalise_phone
from checkout.web.integer_input import ID_MAX


@dataclass
class OrderRequest:
    lines: list[tuple[int, int]]
    details: CustomerDetails
    external_reference: str
    coupon_code: str = ""
    consent: bool = False  # the customer ticked the shop's consent wording (checkout/whatsapp/consent.py)


class InvalidRequest(Exception):
    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid request")
        self.fields = fields


def _encodable(text: str) -> bool:
    """Real text: no lone surrogate halves (JSON allows them, UTF-8 and the database don't)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value, field: str, errors: dict, *, limit: int | None = None) -> str:
    """The string sent for `field` ("" when absent), or "" with a problem noted when it is not text."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        errors[field] = "Must be a string."
        return ""
    if not _encodable(value):
        errors[field] = "Contains characters that are not valid text."
        return ""
    if limit is not None and len(value) > limit:
        errors[field] = f"At most {limit} characters."
        return ""
    return value


def _api_wording(problem: FieldProblem) -> str:
    """A domain problem in the API's words: terse, the same for every field."""
    if problem.reason is ProblemReason.REQUIRED:
        return "This field is required."
    if problem.reason is ProblemReason.TOO_LONG:
        return f"At most {problem.limit} characters."
    if problem.field == "fulfilment":
        return "Must be " + " or ".join(f"'{choice}'" for choice in problem.choices) + "."
    return "Must be one of: " + ", ".join(problem.choices) + "."


def _add_problems(problems: list[FieldProblem], errors: dict) -> None:
    """The domain's problems under their API names, after any reading problem already noted there."""
    for problem in problems:
        errors.setdefault(api_field(problem.field), _api_wording(problem))


def _variant_for(item: dict, field: str, errors: dict) -> Variant | None:
    if "sku" in item:
        sku = item["sku"]
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 64 or not _encodable(sku):
            errors[f"{field}.sku"] = "Must be a SKU string."
            return None
        variant = db.session.scalar(
            select(Variant).where(Variant.sku == sku.strip()).options(selectinload(Variant.product))
        )
        if variant is None:  # a product SKU works for a product without options
            product = db.session.scalar(select(Product).where(Product.sku == sku.strip()))
            if product is not None and len(product.variants) == 1:
                variant = product.variants[0]
        if variant is None:
            errors[f"{field}.sku"] = f"Unknown SKU {sku!r}."
        return variant
    if "product_id" in item:
        product_id, options = item["product_id"], item.get("options") or {}
        if not isinstance(product_id, int) or isinstance(product_id, bool) or not 1 <= product_id <= ID_MAX:
            errors[f"{field}.product_id"] = "Must be a product id (a positive integer)."
            return None
        if not isinstance(options, dict) or not all(
            isinstance(v, str) and _encodable(v) and _encodable(k) for k, v in options.items()
        ):
            errors[f"{field}.options"] = 'Must be an object of option names to values, e.g. {"Size": "M"}.'
            return None
        product = db.session.get(Product, product_id)
        if product is None:
            errors[f"{field}.product_id"] = f"Unknown product {product_id}."
            return None
        for variant in product.variants:
            if variant.options == options:
                return variant
        choices = "; ".join(v.options_label or "(no options)" for v in product.variants)
        errors[f"{field}.options"] = f"No such option combination. Choose one of: {choices}."
        return None
    errors[field] = "Give a sku, or a product_id with options."
    return None


def _items(data, errors: dict, *, keep_unsellable: bool = False) -> list[tuple[int, int]]:
    """The (variant id, quantity) pairs of `items`. A cart takes what is not for sale to the domain, which
    explains it; an order or a quote refuses it here."""
    items = data.get("items")
    if not isinstance(items, list) or not items:
        errors["items"] = "Give at least one item."
        return []
    if len(items) > MAX_CART_LINES:
        errors["items"] = f"At most {MAX_CART_LINES} items."
        return []
    lines = []
    for index, item in enumerate(items):
        field = f"items[{index}]"
        if not isinstance(item, dict):
            errors[field] = "Must be an object."
            continue
        quantity = item.get("quantity", 1)
        try:
            validate_quantity(quantity)
        except InvalidQuantity:
            errors[f"{field}.quantity"] = f"Must be a whole number from 1 to {MAX_LINE_QUANTITY}."
            continue
        variant = _variant_for(item, field, errors)
        if variant is None:
            continue
        if not variant.product.is_sellable and not keep_unsellable:
            errors[field] = f"{variant.product.name} is not for sale."
            continue
        lines.append((variant.id, quantity))
    return lines


@dataclass
class QuoteRequest:
    lines: list[tuple[int, int]]
    fulfilment: str
    coupon_code: str = ""


def _coupon_code(data: dict, errors: dict) -> str:
    """The discount code sent, as text; whether it applies is the domain's answer (checkout/orders/coupons.py)."""
    return _text(data.get("coupon_code"), "coupon_code", errors, limit=CODE_MAX).strip()


def _fulfilment(data: dict, settings: StoreSettings, errors: dict) -> str:
    delivery = data.get("delivery", "delivery")
    _add_problems(fulfilment_problems(delivery, settings), errors)
    return delivery


def parse_quote_request(data, settings: StoreSettings) -> QuoteRequest:
    """The items and delivery choice a price quote asks about, or InvalidRequest listing every bad field."""
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    lines = _items(data, errors)
    fulfilment = _fulfilment(data, settings, errors)
    coupon_code = _coupon_code(data, errors)
    if errors:
        raise InvalidRequest(errors)
    return QuoteRequest(lines=lines, fulfilment=fulfilment, coupon_code=coupon_code)


def _customer_details(data: dict, settings: StoreSettings, errors: dict) -> tuple[CustomerDetails, str]:
    """The customer's details and the external reference a body gives, each problem noted under its field."""
    customer = data.get("customer")
    if not isinstance(customer, dict):
        errors["customer"] = "Give the customer's name and phone."
        customer = {}
    name = _text(customer.get("name"), "customer.name", errors)
    phone = ""
    raw_phone = _text(customer.get("phone"), "customer.phone", errors, limit=32)
    if raw_phone:
        try:
            phone = normalise_phone(raw_phone, settings.default_region)
        except InvalidPhone as error:
            errors["customer.phone"] = str(error)
    delivery = data.get("delivery", "delivery")
    address = _text(customer.get("address"), "customer.address", errors)
    payment = data.get("payment_method") or (settings.payment_methods or ["cod"])[0]
    note = _text(data.get("note"), "note", errors)
    external = _text(data.get("external_reference"), "external_reference", errors, limit=64)
    details = CustomerDetails(
        name=name, phone=phone, fulfilment=delivery, address=address, payment_method=payment, note=note
    )
    _add_problems(order_details_problems(details, settings), errors)
    return details, external


def _consent(data: dict, errors: dict) -> bool:
    """Did the customer tick the shop's consent wording? Only a JSON boolean says so."""
    consent = data.get("consent", False)
    if not isinstance(consent, bool):
        errors["consent"] = "Must be true or false."
        return False
    return consent


def parse_order_request(data, settings: StoreSettings) -> OrderRequest:
    """The order a JSON body asks for, or InvalidRequest listing every bad field."""
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    lines = _items(data, errors)
    details, external = _customer_details(data, settings, errors)
    coupon_code = _coupon_code(data, errors)
    consent = _consent(data, errors)
    if errors:
        raise InvalidRequest(errors)
    return OrderRequest(
        lines=lines, details=details, external_reference=external, coupon_code=coupon_code, consent=consent
    )


def parse_cart_checkout_request(data, settings: StoreSettings) -> OrderRequest:
    """The customer's details for ordering a cart (its lines are the cart's), or InvalidRequest."""
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    details, external = _customer_details(data, settings, errors)
    coupon_code = _coupon_code(data, errors)
    consent = _consent(data, errors)
    if errors:
        raise InvalidRequest(errors)
    return OrderRequest(
        lines=[], details=details, external_reference=external, coupon_code=coupon_code, consent=consent
    )


def parse_cart_items(data) -> list[tuple[int, int]]:
    """The items a new cart starts with (none is fine), or InvalidRequest."""
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    if "items" not in data:
        return []
    errors: dict[str, str] = {}
    lines = _items(data, errors, keep_unsellable=True)
    if errors:
        raise InvalidRequest(errors)
    return lines


def parse_cart_item(data) -> tuple[int, int]:
    """The one item (a sku, or a product_id with options, and a quantity) to add to a cart, or InvalidRequest."""
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    lines = _items({"items": [data]}, errors, keep_unsellable=True)
    if errors:
        raise InvalidRequest({name.removeprefix("items[0]").lstrip(".") or "": text for name, text in errors.items()})
    return lines[0]


def parse_line_sku(sku: str) -> int:
    """The variant a cart line's address names by its SKU, or InvalidRequest."""
    errors: dict[str, str] = {}
    variant = _variant_for({"sku": sku}, "sku", errors)
    if variant is None:
        raise InvalidRequest({"sku": errors.get("sku.sku", "Unknown SKU.")})
    return variant.id


def parse_set_quantity(data) -> int:
    """The quantity a cart line is set to: a whole number from 0 (remove) to the most a line may hold."""
    quantity = data.get("quantity") if isinstance(data, dict) else None
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidRequest({"quantity": f"Must be a whole number from 0 to {MAX_LINE_QUANTITY}."})
    return quantity
