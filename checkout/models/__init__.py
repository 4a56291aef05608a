"""All models, imported here so the metadata (and migrations) see every table."""

from checkout.models.catalog import Category, Product, ProductStatus, Variant
from checkout.models.orders import Order, OrderEvent, OrderLine, StockReservation
from checkout.models.staff import StaffUser
from checkout.models.store import StoreSettings, get_store_settings

__all__ = [
    "Category",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Product",
    "ProductStatus",
    "StaffUser",
    "StockReservation",
    "StoreSettings",
    "Variant",
    "get_store_settings",
]
