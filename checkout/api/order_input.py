"""Reading a Store API order request: every problem found at once, named by its field."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.catalog import Product, ProductStatus, Variant
from checkout.models.store import StoreSettings
from checkout.orders.placing import ADDRESS_MAX, NAME_MAX, NOTE_MAX, CustomerDetails
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY
from checkout.phones import InvalidPhone, normalise_phone


@dataclass
class OrderRequest:
    lines: list[tuple[int, int]]
    details: CustomerDetails
    external_reference: str


class InvalidRequest(Exception):
    def __init__(self, fields: dict[str, str]):
        super().__init__("invalid request")
        self.fields = fields


ID_MAX = 2**31 - 1  # the database's integer ids


def _encodable(text: str) -> bool:
    """Real text: no lone surrogate halves (JSON allows them, UTF-8 and the database don't)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value, field: str, errors: dict, *, required: bool, limit: int) -> str:
    if value is None or value == "":
        if required:
            errors[field] = "This field is required."
        return ""
    if not isinstance(value, str):
        errors[field] = "Must be a string."
        return ""
    if not _encodable(value):
        errors[field] = "Contains characters that are not valid text."
        return ""
    if len(value) > limit:
        errors[field] = f"At most {limit} characters."
        return ""
    return value


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


def _items(data, errors: dict) -> list[tuple[int, int]]:
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
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
            errors[f"{field}.quantity"] = f"Must be a whole number from 1 to {MAX_LINE_QUANTITY}."
            continue
        variant = _variant_for(item, field, errors)
        if variant is None:
            continue
        if variant.product.status != ProductStatus.ACTIVE:
            errors[field] = f"{variant.product.name} is not for sale."
            continue
        lines.append((variant.id, quantity))
    return lines


def parse_order_request(data, settings: StoreSettings) -> OrderRequest:
    """The order a JSON body asks for, or InvalidRequest listing every bad field."""
    if not isinstance(data, dict):
        raise InvalidRequest({"": "The body must be a JSON object."})
    errors: dict[str, str] = {}
    lines = _items(data, errors)
    customer = data.get("customer")
    if not isinstance(customer, dict):
        errors["customer"] = "Give the customer's name and phone."
        customer = {}
    name = _text(customer.get("name"), "customer.name", errors, required=True, limit=NAME_MAX)
    phone = ""
    raw_phone = _text(customer.get("phone"), "customer.phone", errors, required=True, limit=32)
    if raw_phone:
        try:
            phone = normalise_phone(raw_phone, settings.default_region)
        except InvalidPhone as error:
            errors["customer.phone"] = str(error)
    delivery = data.get("delivery", "delivery")
    if delivery not in ("delivery", "pickup") or (delivery == "pickup" and not settings.pickup_enabled):
        errors["delivery"] = "Must be 'delivery'" + (" or 'pickup'." if settings.pickup_enabled else ".")
    address = _text(
        customer.get("address"), "customer.address", errors, required=delivery == "delivery", limit=ADDRESS_MAX
    )
    payment = data.get("payment_method") or (settings.payment_methods or ["cod"])[0]
    if payment not in settings.payment_methods:
        errors["payment_method"] = "Must be one of: " + ", ".join(settings.payment_methods) + "."
    note = _text(data.get("note"), "note", errors, required=False, limit=NOTE_MAX)
    external = _text(data.get("external_reference"), "external_reference", errors, required=False, limit=64)
    if errors:
        raise InvalidRequest(errors)
    details = CustomerDetails(
        name=name.strip(), phone=phone, fulfilment=delivery, address=address, payment_method=payment, note=note
    )
    return OrderRequest(lines=lines, details=details, external_reference=external)
