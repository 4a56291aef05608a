"""Products and their variants as staff create, edit, archive and restore them.

`save_product` checks the whole draft first and reports every problem at once; only a clean draft is
written, in one transaction that commits once. Opening stock of new variants goes through the ledger.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from checkout.catalog.errors import CONFLICT_MESSAGE, FieldError, InvalidValue, ProductRejected
from checkout.catalog.queries import free_value
from checkout.catalog.stock import change_on_hand_by_staff
from checkout.catalog.values import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    SKU_MAX,
    SLUG_MAX,
    SLUG_PATTERN,
    STATUSES,
    check_sku,
    options_key,
    parse_duration,
    parse_keywords,
    parse_kind,
    parse_options,
    parse_price,
    parse_stock,
    slugify,
)
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductKind, ProductStatus, Variant
from checkout.models.staff import StaffUser


@dataclass(frozen=True)
class VariantDraft:
    """One variant row as staff typed it. `stock` is the opening stock and only counts for a new variant."""

    id: int | None = None
    sku: str = ""
    options: str = ""
    price: str = ""
    stock: str = ""

    @property
    def is_blank(self) -> bool:
        return self.id is None and not any(text.strip() for text in (self.sku, self.options, self.price, self.stock))


@dataclass(frozen=True)
class ProductDraft:
    name: str
    slug: str = ""  # blank: made from the name
    sku: str = ""  # blank: kept, or made from the slug for a new product
    description: str = ""
    category: str = ""  # a category name: an existing one (any case) or a new one; blank for none
    keywords: str = ""  # other words customers use for it, comma-separated
    status: str = ProductStatus.DRAFT
    kind: str = ProductKind.GOODS  # a service: no stock, sold by its duration
    duration_minutes: str = ""  # a service's minutes per unit, as typed
    image_url: str | None = None  # None keeps the current image, "" removes it
    variants: tuple[VariantDraft, ...] = ()


@dataclass
class _VariantPlan:
    index: int
    existing: Variant | None
    sku: str
    options: dict[str, str]
    price_minor: int
    opening_stock: int


def save_product(
    product: Product | None, draft: ProductDraft, *, currency: str, staff: StaffUser | None, locale: str = "en"
) -> Product:
    """Create (product=None) or update a product and its variants in one transaction.

    Raises ProductRejected with every problem found (nothing written). Opening stock of new variants
    is written through the ledger; stock of existing variants is changed only by `adjust_stock`.
    """
    try:
        with transaction():
            errors: list[FieldError] = []
            fields = _checked_product_fields(product, draft, errors)
            variant_plans = _checked_variants(
                product, draft, currency, locale, errors, service=draft.kind.strip().lower() == ProductKind.SERVICE
            )
            if errors:
                raise ProductRejected(errors)
            product = _write_product(product, draft, fields, variant_plans, staff)
    except IntegrityError:
        raise ProductRejected([FieldError("form", CONFLICT_MESSAGE)]) from None
    return product


def _checked_product_fields(product: Product | None, draft: ProductDraft, errors: list[FieldError]) -> dict:
    own_id = product.id if product else None
    name = draft.name.strip()
    if not name:
        errors.append(FieldError("name", "Enter the product name."))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", f"The name can be at most {NAME_MAX} characters."))
    slug = _checked_slug(draft.slug, name, own_id, errors)
    sku = _checked_product_sku(draft.sku, product, slug, errors)
    if len(draft.description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", f"The description can be at most {DESCRIPTION_MAX} characters."))
    if len(draft.category.strip()) > CATEGORY_MAX:
        errors.append(FieldError("category", f"A category name can be at most {CATEGORY_MAX} characters."))
    if draft.status not in STATUSES:
        errors.append(FieldError("status", "Choose active, draft or archived."))
    try:
        keywords = parse_keywords(draft.keywords)
    except InvalidValue as error:
        errors.append(FieldError("keywords", error.message))
        keywords = ""
    kind, duration = _checked_kind(draft, errors)
    description = draft.description.strip().replace("\r\n", "\n")
    return dict(name=name, slug=slug, sku=sku, description=description, keywords=keywords, kind=kind, duration=duration)


def _checked_kind(draft: ProductDraft, errors: list[FieldError]) -> tuple[str, int | None]:
    try:
        kind = parse_kind(draft.kind)
    except InvalidValue as error:
        errors.append(FieldError("kind", error.message))
        return ProductKind.GOODS, None
    try:
        return kind, parse_duration(draft.duration_minutes, kind)
    except InvalidValue as error:
        errors.append(FieldError("duration_minutes", error.message))
        return kind, None


def _checked_slug(typed: str, name: str, own_id: int | None, errors: list[FieldError]) -> str:
    slug = typed.strip().lower()
    if not slug:
        return free_value(Product.slug, slugify(name), SLUG_MAX, exclude_id=own_id)
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.fullmatch(slug):
        errors.append(
            FieldError("slug", f"Use lowercase letters, digits and single hyphens, at most {SLUG_MAX} characters.")
        )
        return slug
    holder = db.session.scalar(select(Product).where(Product.slug == slug, Product.id != (own_id or 0)))
    if holder is not None:
        errors.append(FieldError("slug", f"The slug “{slug}” is already used by “{holder.name}”."))
    return slug


def _checked_product_sku(typed: str, product: Product | None, slug: str, errors: list[FieldError]) -> str:
    if not typed.strip():
        if product is not None:
            return product.sku
        return free_value(Product.sku, slug.upper(), SKU_MAX)
    try:
        sku = check_sku(typed)
    except InvalidValue as error:
        errors.append(FieldError("sku", error.message))
        return typed
    holder = db.session.scalar(select(Product).where(Product.sku == sku, Product.id != (product.id if product else 0)))
    if holder is not None:
        errors.append(FieldError("sku", f"The product SKU “{sku}” is already used by “{holder.name}”."))
    return sku


def _checked_variants(
    product: Product | None, draft: ProductDraft, currency: str, locale: str, errors: list[FieldError], service: bool
) -> list[_VariantPlan]:
    """The variant rows' plans; a service's rows carry no opening stock (a service is never counted)."""
    own = {v.id: v for v in product.variants} if product else {}
    plans = []
    for index, row in enumerate(draft.variants):
        if service:
            row = VariantDraft(id=row.id, sku=row.sku, options=row.options, price=row.price)
        if row.is_blank:
            continue
        plan = _checked_variant_row(index, row, own, currency, locale, errors)
        if plan is not None:
            plans.append(plan)
    if not plans and not own and not any(e.variant_index is not None for e in errors):
        errors.append(FieldError("variants", "Add at least one variant: a SKU and a price (options may stay empty)."))
    untouched = [v for v in own.values() if v.id not in {p.existing.id for p in plans if p.existing}]
    _check_variant_skus(plans, untouched, product, errors)
    _check_variant_options(plans, untouched, errors)
    return plans


def _checked_variant_row(
    index: int, row: VariantDraft, own: dict, currency: str, locale: str, errors
) -> _VariantPlan | None:
    before = len(errors)
    existing = own.get(row.id) if row.id is not None else None
    if row.id is not None and existing is None:
        errors.append(FieldError("sku", "This variant is not part of this product.", index))
    values = {}
    for name, parse in (
        ("sku", check_sku),
        ("options", parse_options),
        ("price", lambda text: parse_price(text, currency, locale)),
        ("stock", lambda text: parse_stock(text) if text.strip() else 0),
    ):
        try:
            values[name] = parse(getattr(row, name))
        except InvalidValue as error:
            if name != "stock" or existing is None:
                errors.append(FieldError(name, error.message, index))
    if len(errors) > before:
        return None
    opening = 0 if existing is not None else values["stock"]
    return _VariantPlan(index, existing, values["sku"], values["options"], values["price"], opening)


def _check_variant_skus(plans: list[_VariantPlan], untouched: list[Variant], product, errors) -> None:
    seen = {v.sku: "another variant of this product" for v in untouched}
    for plan in plans:
        if plan.sku in seen:
            errors.append(FieldError("sku", f"The SKU “{plan.sku}” is already used by {seen[plan.sku]}.", plan.index))
        seen.setdefault(plan.sku, "another variant in this form")
    query = select(Variant).where(Variant.sku.in_([p.sku for p in plans]))
    if product is not None:
        query = query.where(Variant.product_id != product.id)
    for holder in db.session.scalars(query):
        index = next(p.index for p in plans if p.sku == holder.sku)
        errors.append(FieldError("sku", f"The SKU “{holder.sku}” is already used by “{holder.product.name}”.", index))


def _check_variant_options(plans: list[_VariantPlan], untouched: list[Variant], errors) -> None:
    seen = {options_key(v.options) for v in untouched}
    several = len(plans) + len(untouched) > 1
    for plan in plans:
        if several and not plan.options:
            message = "A product with several variants needs options on each, like “Size=M”."
            errors.append(FieldError("options", message, plan.index))
        elif options_key(plan.options) in seen:
            errors.append(FieldError("options", "Another variant of this product has the same options.", plan.index))
        seen.add(options_key(plan.options))


def _write_product(product, draft: ProductDraft, fields: dict, plans: list[_VariantPlan], staff) -> Product:
    if product is None:
        product = Product()
        db.session.add(product)
    product.name, product.slug, product.sku = fields["name"], fields["slug"], fields["sku"]
    product.description, product.keywords = fields["description"], fields["keywords"]
    product.status = draft.status
    product.kind, product.duration_minutes = fields["kind"], fields["duration"]
    product.category = find_or_create_category(draft.category)
    if draft.image_url is not None:
        product.image_url = draft.image_url
    next_position = max((v.position for v in product.variants), default=-1) + 1
    for plan in plans:
        variant = plan.existing
        if variant is None:
            variant = Variant(stock_on_hand=0, position=next_position)
            next_position += 1
            product.variants.append(variant)
            if plan.opening_stock:
                change_on_hand_by_staff(variant, plan.opening_stock, "Opening stock", staff)
        variant.sku, variant.options, variant.price_minor = plan.sku, plan.options, plan.price_minor
    db.session.flush()
    return product


def archive_product(product: Product) -> None:
    """Take a product off sale and out of the shop without deleting it (orders keep pointing at it)."""
    product.status = ProductStatus.ARCHIVED
    db.session.commit()


def restore_product(product: Product) -> None:
    """Bring an archived product back as a draft, so it is checked before it goes on sale again."""
    product.status = ProductStatus.DRAFT
    db.session.commit()


def find_or_create_category(name: str, created: dict[str, Category] | None = None) -> Category | None:
    """The category of that name (case-insensitive), created if there is none; blank → no category."""
    name = name.strip()
    if not name:
        return None
    key = name.casefold()
    if created is not None and key in created:
        return created[key]
    category = next((c for c in db.session.scalars(select(Category)) if c.name.casefold() == key), None)
    if category is None:
        category = Category(name=name, slug=free_value(Category.slug, slugify(name, CATEGORY_MAX, "category"), 80))
        db.session.add(category)
        db.session.flush()
    if created is not None:
        created[key] = category
    return category
