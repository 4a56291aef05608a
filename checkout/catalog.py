"""Catalog queries for the storefront and the API: only active products are shown or sold."""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductStatus, Variant
from checkout.orders import stock

SEARCH_MAX = 100


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


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


def availability(products: list[Product]) -> dict[int, int]:
    """Units each variant of these products can still be sold (one query for the whole page)."""
    return stock.available_quantities([v for p in products for v in p.variants])


def get_variant(variant_id: int) -> Variant | None:
    return db.session.get(Variant, variant_id)


def sold_out_product_ids(products: list[Product], available: dict[int, int]) -> set[int]:
    return {p.id for p in products if not any(available.get(v.id) for v in p.variants)}
