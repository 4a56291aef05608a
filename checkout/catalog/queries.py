"""Reading the catalog. The storefront and the API see only active products (only those are shown or
sold); the admin sees every product, with prices and stock summed up per product.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from checkout.catalog.stock import VariantStock, variant_stock_levels
from checkout.catalog.values import STATUSES
from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductStatus, Variant

SEARCH_MAX = 100  # characters of a search, on the storefront and in the admin alike


# ---------------------------------------------------------------- shared by every screen


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def get_variant(variant_id: int) -> Variant | None:
    return db.session.get(Variant, variant_id)


# ---------------------------------------------------------------- the storefront's and the API's view: active products


def list_active_products(category_slug: str | None = None, search: str | None = None) -> list[Product]:
    query = (
        select(Product)
        .where(Product.status == ProductStatus.ACTIVE)
        .options(selectinload(Product.variants), selectinload(Product.category))
        .order_by(Product.name)
    )
    if category_slug:
        query = query.join(Category).where(Category.slug == category_slug)
    terms = (search or "").strip()[:SEARCH_MAX]
    if terms:
        pattern = f"%{terms.lower()}%"
        query = query.where(or_(func.lower(Product.name).like(pattern), func.lower(Product.description).like(pattern)))
    return list(db.session.scalars(query))


def get_active_product(slug: str) -> Product | None:
    return db.session.scalar(
        select(Product)
        .where(Product.slug == slug, Product.status == ProductStatus.ACTIVE)
        .options(selectinload(Product.variants), selectinload(Product.category))
    )


def sold_out_product_ids(products: list[Product], available: dict[int, int]) -> set[int]:
    return {p.id for p in products if not any(available.get(v.id) for v in p.variants)}


@dataclass(frozen=True)
class OptionValue:
    value: str
    in_stock: bool  # some variant with this value can still be sold


@dataclass(frozen=True)
class OptionChoice:
    """One option of a product (e.g. Size) with its values in catalog order, for choice pills."""

    name: str
    values: list[OptionValue]


def option_choices(product: Product, available: dict[int, int]) -> list[OptionChoice]:
    """The product's options, one entry per option name, each value marked sold out when no variant has it left."""
    choices = []
    for name in product.option_names:
        in_stock: dict[str, bool] = {}
        for variant in product.variants:
            if name in variant.options:
                value = str(variant.options[name])
                in_stock[value] = in_stock.get(value, False) or bool(available.get(variant.id))
        choices.append(OptionChoice(name, [OptionValue(value, sold) for value, sold in in_stock.items()]))
    return choices


# ---------------------------------------------------------------- the admin's view: every product


@dataclass(frozen=True)
class ProductRow:
    """One line of the admin product list."""

    product: Product
    lowest_price_minor: int
    highest_price_minor: int
    on_hand: int
    available: int
    low_stock_variants: int  # flagged variants that still have units to sell
    out_of_stock_variants: int  # flagged variants with none left

    @property
    def has_price_range(self) -> bool:
        return self.lowest_price_minor != self.highest_price_minor

    @property
    def is_low_stock(self) -> bool:
        return self.low_stock_variants > 0

    @property
    def is_out_of_stock(self) -> bool:
        return self.out_of_stock_variants > 0


def _products_by_name():
    """Every product with its variants and category, in the order the admin lists them."""
    return (
        select(Product)
        .options(selectinload(Product.variants), selectinload(Product.category))
        .order_by(func.lower(Product.name), Product.id)
    )


def list_all_products() -> list[Product]:
    return list(db.session.scalars(_products_by_name()))


def list_products_for_admin(search: str = "", status: str = "", *, low_stock_threshold: int) -> list[ProductRow]:
    """Every product (or those matching the name/SKU search and status), with prices and stock summed up.

    Archived products are never flagged as low on stock: they are not for sale.
    """
    query = _products_by_name()
    if status in STATUSES:
        query = query.where(Product.status == status)
    terms = search.strip()[:SEARCH_MAX].lower()
    if terms:
        pattern = f"%{_escape_like(terms)}%"
        variant_matches = (
            select(Variant.id)
            .where(Variant.product_id == Product.id, func.lower(Variant.sku).like(pattern, escape="\\"))
            .exists()
        )
        query = query.where(
            or_(
                func.lower(Product.name).like(pattern, escape="\\"),
                func.lower(Product.sku).like(pattern, escape="\\"),
                variant_matches,
            )
        )
    products = list(db.session.scalars(query))
    levels = variant_stock_levels([v for p in products for v in p.variants], low_stock_threshold)
    return [_product_row(product, levels) for product in products]


def _product_row(product: Product, levels: dict[int, VariantStock]) -> ProductRow:
    prices = [v.price_minor for v in product.variants] or [0]
    mine = [levels[v.id] for v in product.variants]
    return ProductRow(
        product=product,
        lowest_price_minor=min(prices),
        highest_price_minor=max(prices),
        on_hand=sum(level.on_hand for level in mine),
        available=sum(level.available for level in mine),
        low_stock_variants=sum(1 for level in mine if level.is_low and not level.is_out),
        out_of_stock_variants=sum(1 for level in mine if level.is_out),
    )


def get_product(product_id: int) -> Product | None:
    """Any product, whatever its status, with its variants and category."""
    return db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(selectinload(Product.variants), selectinload(Product.category))
    )


# ---------------------------------------------------------------- unique values still free


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def free_value(column, base: str, max_length: int, *, taken: Iterable[str] = (), exclude_id: int | None = None):
    """`base`, or `base-2`, `base-3`… — the first value of a unique column nobody uses yet."""
    query = select(column).where(column.like(_escape_like(base[:max_length]) + "%", escape="\\"))
    if exclude_id is not None:
        query = query.where(column.table.c.id != exclude_id)
    used = set(db.session.scalars(query)) | set(taken)
    candidate, number = base[:max_length], 2
    while candidate in used:
        suffix = f"-{number}"
        candidate, number = base[: max_length - len(suffix)] + suffix, number + 1
    return candidate
