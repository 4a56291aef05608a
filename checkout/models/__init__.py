"""All models, imported here so the metadata (and migrations) see every table."""

from checkout.models.api import ApiKey, IdempotencyRecord
from checkout.models.catalog import Category, Product, ProductStatus, StockMovement, Variant
from checkout.models.messaging import Contact, Message, MessageStatusUpdate, OutboxItem, WebhookEvent
from checkout.models.orders import Order, OrderEvent, OrderLine, Payment, StockReservation
from checkout.models.staff import StaffUser
from checkout.models.store import CartStart, StoreSettings, get_store_settings

__all__ = [
    "ApiKey",
    "IdempotencyRecord",
    "Contact",
    "Message",
    "MessageStatusUpdate",
    "OutboxItem",
    "WebhookEvent",
    "CartStart",
    "Category",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "Product",
    "ProductStatus",
    "StaffUser",
    "StockMovement",
    "StockReservation",
    "StoreSettings",
    "Variant",
    "get_store_settings",
]
