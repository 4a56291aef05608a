"""Build catalog rows, store settings and orders for tests with one call each."""

import itertools

from checkout.extensions import db
from checkout.models import Category, Product, ProductStatus, Variant, get_store_settings
from checkout.orders.placing import CustomerDetails, place_order

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
                stock_on_hand=stock,
                position=index,
            )
        )
    db.session.add(product)
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
