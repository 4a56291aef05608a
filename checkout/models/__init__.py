"""All models, imported here so the metadata (and migrations) see every table."""

from checkout.models.api import ApiKey, IdempotencyRecord
from checkout.models.carriers import Carrier, CarrierEvent
from checkout.models.carts import Cart, CartLine
from checkout.models.catalog import Category, Product, ProductKind, ProductStatus, StockMovement, Variant
from checkout.models.consents import Consent
from checkout.models.conversations import Conversation, ConversationNote, MediaFile, QuickReply
from checkout.models.coupons import Coupon, CouponKind, CouponRedemption
from checkout.models.faq import FaqEntry
from checkout.models.messaging import Contact, Message, MessageStatusUpdate, OutboxItem, SendingPause, WebhookEvent
from checkout.models.orders import Order, OrderEvent, OrderLine, Payment, StockReservation
from checkout.models.payment_events import PaymentEvent
from checkout.models.payments import PaymentRequest
from checkout.models.ratings import DeliveryFollowUp, OrderRating
from checkout.models.returns import ReturnPhoto, ReturnRequest
from checkout.models.service_sessions import ServiceSession
from checkout.models.staff import StaffUser
from checkout.models.store import StoreSettings, get_store_settings

__all__ = [
    "ApiKey",
    "IdempotencyRecord",
    "Contact",
    "Message",
    "MessageStatusUpdate",
    "OutboxItem",
    "SendingPause",
    "WebhookEvent",
    "Carrier",
    "CarrierEvent",
    "Cart",
    "CartLine",
    "Consent",
    "Category",
    "Conversation",
    "ConversationNote",
    "Coupon",
    "CouponKind",
    "CouponRedemption",
    "FaqEntry",
    "MediaFile",
    "Order",
    "OrderRating",
    "DeliveryFollowUp",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentRequest",
    "PaymentEvent",
    "Product",
    "QuickReply",
    "ReturnPhoto",
    "ReturnRequest",
    "ProductKind",
    "ProductStatus",
    "ServiceSession",
    "StaffUser",
    "StockMovement",
    "StockReservation",
    "StoreSettings",
    "Variant",
    "get_store_settings",
]
