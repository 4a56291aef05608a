"""Building service products and paying orders for the service session tests."""

from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Order, Product, ProductKind, ProductStatus, ServiceSession, StaffUser, Variant
from checkout.orders import desk
from tests.admin_helpers import make_staff

CASHIER = "cashier@sunrise.example.com"


def make_service(name="Legal consultation", price_minor=20000, minutes=60, sku="LAW") -> Product:
    """A service as staff make one: no picture, no stock, a price and the minutes it buys."""
    product = Product(
        name=name,
        slug=name.lower().replace(" ", "-"),
        sku=sku,
        description=f"{minutes} minutes with a lawyer in the WhatsApp chat.",
        status=ProductStatus.ACTIVE,
        kind=ProductKind.SERVICE,
        duration_minutes=minutes,
    )
    product.variants.append(Variant(sku=f"{sku}-1", options={}, price_minor=price_minor, stock_on_hand=0))
    db.session.add(product)
    db.session.commit()
    return product


def pay_in_full(reference: str) -> None:
    """A manager records the balance as received (UPI), through the desk's use case."""
    cashier = db.session.scalar(select(StaffUser).where(StaffUser.email == CASHIER))
    cashier = cashier or make_staff("manager", email=CASHIER, name="Cashier")
    order = db.session.scalar(select(Order).where(Order.reference == reference))
    desk.record_payment(
        order, method="upi", amount_minor=order.balance_minor, reference="UPI-1", staff=cashier, expected_version=None
    )


def session_of(reference: str) -> ServiceSession | None:
    order_id = db.session.scalar(select(Order.id).where(Order.reference == reference))
    return db.session.scalar(select(ServiceSession).where(ServiceSession.order_id == order_id))
