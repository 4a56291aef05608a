"""Build catalog rows, store settings and orders for tests with one call each."""

import itertools
import secrets
from datetime import timedelta

from checkout.carts import new_cart_token
from checkout.catalog.stock import change_on_hand
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Cart, CartLine, Category, Coupon, Product, ProductStatus, Variant, get_store_settings
from checkout.orders.placing import place_order
from checkout.orders.validation import CustomerDetails
from checkout.whatsapp.consent import record_consent

_counter = itertools.count(1)


def make_store(**fields):
    settings = get_store_settings()
    defaults = dict(
        name="Test Shop",
        whatsapp_number="+919876543210",
        currency="INR",
        locale="en_IN",
        default_region="IN",
        delivery_fee_minor=5000,
        free_delivery_threshold_minor=None,
        pickup_enabled=True,
        pickup_address="12 Market Road",
        reservation_hours=24,
        payment_methods=["cod", "transfer"],
        # Tests place many orders for one customer (`customer()`); those about the cap set their own.
        max_pending_units_per_phone=100_000,
    )
    defaults.update(fields)
    for name, value in defaults.items():
        setattr(settings, name, value)
    db.session.commit()
    return settings


def make_product(
    name=None, price_minor=10000, stock=10, options=None, status=ProductStatus.ACTIVE, category=None, sku=None
):
    """A product; `options` is a list of option dicts, one variant each (e.g. [{"Size": "M"}, {"Size": "L"}])."""
    n = next(_counter)
    name = name or f"Product {n}"
    sku = sku or f"SKU{n}"
    if isinstance(category, str):
        category = Category(name=category, slug=f"{category.lower()}-{n}")
    product = Product(
        name=name,
        slug=f"{name.lower().replace(' ', '-')}-{n}",
        sku=sku,
        description=f"About {name}",
        status=status,
        category=category,
    )
    for index, combination in enumerate(options or [{}]):
        product.variants.append(
            Variant(
                sku=f"{sku}-{index}",
                options=combination,
                price_minor=price_minor,
                stock_on_hand=0,
                position=index,
            )
        )
    db.session.add(product)
    for variant in product.variants:  # as the admin does: opening stock goes through the ledger
        if stock:
            change_on_hand(variant, stock, "Opening stock")
    db.session.commit()
    return product


def customer(**fields):
    defaults = dict(
        name="Asha Kumar",
        phone="+919876543210",
        fulfilment="delivery",
        address="Beth House, Kasarani, House 16",
        payment_method="cod",
        note="",
    )
    defaults.update(fields)
    return CustomerDetails(**defaults)


def make_order(lines, details=None, checkout_key=None, **kwargs):
    """Place an order for [(variant, quantity), ...] through the real use case."""
    return place_order(
        lines=[(variant.id, quantity) for variant, quantity in lines],
        details=details or customer(),
        settings=get_store_settings(),
        checkout_key=checkout_key,
        **kwargs,
    )


def make_coupon(code, kind="percent", value=10, **fields):
    """A discount code (kept upper-case, as the admin keeps it); `fields` are any other Coupon columns."""
    coupon = Coupon(code=code.upper(), kind=kind, value=value, **fields)
    db.session.add(coupon)
    db.session.commit()
    return coupon


def make_cart(lines=(), **fields):
    """A cart holding [(variant, quantity), ...] at today's prices, written as it is (no rules checked)."""
    cart = Cart(token=new_cart_token(), **fields)
    for variant, quantity in lines:
        cart.lines.append(CartLine(variant=variant, quantity=quantity, seen_price_minor=variant.price_minor))
    db.session.add(cart)
    db.session.flush()
    return cart


def make_checkout_cart(lines, *, phone="+919876543210", name="Asha Kumar", started_ago=None, channel="website"):
    """A cart whose shopper reached checkout and gave a number: [(variant, quantity), ...], started `started_ago`."""
    started = utcnow() - (started_ago or timedelta(0))
    cart = Cart(
        token=secrets.token_urlsafe(24),
        channel=channel,
        phone=phone,
        customer_name=name,
        created_at=started,
        updated_at=started,
        checkout_started_at=started,
    )
    for variant, quantity in lines:
        cart.lines.append(CartLine(variant_id=variant.id, quantity=quantity, seen_price_minor=variant.price_minor))
    db.session.add(cart)
    db.session.commit()
    return cart


def give_consent(phone="+919876543210", source="website", order=None):
    """The customer ticked the consent box (on `order`, when given) with the shop's wording."""
    consent = record_consent(phone, source=source, wording=get_store_settings().consent_wording, order=order)
    db.session.commit()
    return consent


def make_journey_cart(channel="website", created_at=None, checkout_started_at=None, order=None):
    """A cart row as a channel leaves it: started, perhaps taken to checkout, perhaps placed as `order`."""
    cart = Cart(
        token=secrets.token_urlsafe(24),
        channel=channel,
        created_at=created_at or utcnow(),
        updated_at=created_at or utcnow(),
        checkout_started_at=checkout_started_at,
        order_id=order.id if order is not None else None,
    )
    db.session.add(cart)
    db.session.commit()
    return cart
