"""Catalog: categories, products and their variants.

Every product has at least one variant; a product without options has a single variant whose
`options` is empty. Price and stock live on the variant, so one code path prices and reserves
everything. Money is an integer of minor units in the store's currency.
"""

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


class ProductKind(enum.StrEnum):
    """Goods are kept in stock and shipped; a service is time a staff member gives in the chat, paid by the minute."""

    GOODS = "goods"
    SERVICE = "service"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    products: Mapped[list["Product"]] = relationship(back_populates="category")


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'draft', 'archived')",
            name="status_known",
        ),
        CheckConstraint("kind IN ('goods', 'service')", name="kind_known"),
        CheckConstraint(
            "(kind = 'service' AND duration_minutes > 0) OR (kind = 'goods' AND duration_minutes IS NULL)",
            name="duration_only_for_services",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    image_url: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.ACTIVE, index=True)
    # Other words customers use for it, comma-separated ("chai, tea, चाय"): WhatsApp orders find it by these too.
    keywords: Mapped[str] = mapped_column(String(500), default="")
    # A service sells minutes of a staff member's time in the chat (checkout/service_sessions.py), not stock.
    kind: Mapped[str] = mapped_column(String(16), default=ProductKind.GOODS)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)  # per unit; services only
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    category: Mapped[Category | None] = relationship(back_populates="products")
    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product", order_by="Variant.position, Variant.id", cascade="all, delete-orphan"
    )

    @property
    def keyword_list(self) -> list[str]:
        return [keyword.strip() for keyword in self.keywords.split(",") if keyword.strip()]

    @property
    def is_service(self) -> bool:
        return self.kind == ProductKind.SERVICE

    @property
    def is_sellable(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    @property
    def has_options(self) -> bool:
        return any(v.options for v in self.variants)

    @property
    def lowest_price_minor(self) -> int:
        return min((v.price_minor for v in self.variants), default=0)

    @property
    def has_price_range(self) -> bool:
        return len({v.price_minor for v in self.variants}) > 1

    @property
    def stock_on_hand(self) -> int:
        return sum(v.stock_on_hand for v in self.variants)

    @property
    def option_names(self) -> list[str]:
        names: list[str] = []
        for variant in self.variants:
            for name in variant.options:
                if name not in names:
                    names.append(name)
        return names


class Variant(db.Model):
    """One purchasable thing: a product in one combination of options (e.g. Size M, Colour Red)."""

    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("stock_on_hand >= 0", name="stock_not_negative"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    options: Mapped[dict] = mapped_column(db.JSON, default=dict)
    price_minor: Mapped[int] = mapped_column(Integer)
    stock_on_hand: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def options_label(self) -> str:
        """'Size M, Colour Red' — how the options read in a cart line or a WhatsApp message."""
        return ", ".join(f"{name} {value}" for name, value in self.options.items())


class StockMovement(db.Model):
    """The stock ledger: every manual change of stock on hand, with its reason and who made it."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    stock_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    staff_name: Mapped[str] = mapped_column(String(80), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    variant: Mapped[Variant] = relationship()
