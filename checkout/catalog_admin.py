"""Catalog administration: products and variants, stock adjustments and their ledger, images, CSV.

The admin views only translate requests into these calls. Every use case runs in one transaction,
commits once, and on refusal rolls back and raises a CatalogError the view shows as a form message.
Stock on hand never changes without a StockMovement row saying by how much, why and who did it.
"""

import base64
import csv
import hashlib
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout.csv_safety import restore_cell, write_csv
from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductStatus, StockMovement, Variant
from checkout.models.staff import StaffUser
from checkout.money import from_minor, minor_digits, to_minor
from checkout.orders import stock

NAME_MAX = 120
SLUG_MAX = 140
SKU_MAX = 64
CATEGORY_MAX = 80
DESCRIPTION_MAX = 5000
OPTIONS_MAX = 300
OPTION_PART_MAX = 40
REASON_MAX = 200
SEARCH_MAX = 100
PRICE_MAX_MINOR = 1_000_000_000  # well inside the 32-bit integer column, so a typo is an error, not a 500
STOCK_MAX = 1_000_000

SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
AMOUNT_PATTERN = re.compile(r"\d+(?:\.\d+)?")
WHOLE_NUMBER_PATTERN = re.compile(r"\d+")
SIGNED_NUMBER_PATTERN = re.compile(r"[+-]?\d+")
STATUSES = tuple(status.value for status in ProductStatus)
CONFLICT_MESSAGE = "Someone else changed the catalog at the same moment (a SKU or slug is now taken). Please try again."


# ---------------------------------------------------------------- errors


class CatalogError(Exception):
    """Base class: a catalog change refused, with a message staff can act on."""

    message = "The catalog change could not be made."

    def __init__(self, message: str | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidValue(CatalogError):
    """One typed value (a price, a SKU, an options list…) cannot be used."""


class InvalidImage(CatalogError):
    """The upload is not a PNG, JPEG or WebP image of at most IMAGE_MAX_BYTES."""


@dataclass(frozen=True)
class FieldError:
    field: str  # a ProductDraft field name, or a VariantDraft one when variant_index is set; "form" for the whole
    message: str
    variant_index: int | None = None


class ProductRejected(CatalogError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__(" ".join(error.message for error in errors))


class StockAdjustmentRefused(CatalogError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class ImportRejected(CatalogError):
    """The file has problems; nothing was imported."""

    def __init__(self, plan: "ImportPlan"):
        self.plan = plan
        super().__init__(f"The file has {len(plan.problems)} problem(s); nothing was imported.")


class ImportOutdated(CatalogError):
    """The catalog changed between the preview and the import; the new preview must be confirmed."""

    def __init__(self, plan: "ImportPlan"):
        self.plan = plan
        super().__init__("The catalog changed since the preview. Check the updated preview and import again.")


# ---------------------------------------------------------------- values typed by staff (forms and CSV alike)


def check_sku(text: str) -> str:
    sku = text.strip()
    if not sku:
        raise InvalidValue("Enter a SKU.")
    if len(sku) > SKU_MAX:
        raise InvalidValue(f"A SKU can be at most {SKU_MAX} characters.")
    if not SKU_PATTERN.fullmatch(sku):
        raise InvalidValue(
            f"“{sku}” is not a valid SKU: use letters, digits and . _ / - (no spaces), starting with a letter or digit."
        )
    return sku


def parse_price(text: str, currency: str) -> int:
    """'799.50' → 79950 minor units. Refuses signs, words, currency symbols and too many decimals."""
    amount = text.strip()
    if not amount:
        raise InvalidValue("Enter a price.")
    if amount.startswith("-"):
        raise InvalidValue(f"“{amount}” is negative; a price cannot be below zero.")
    if not AMOUNT_PATTERN.fullmatch(amount):
        raise InvalidValue(f"“{amount}” is not a price; write it like 799.50 (digits and a decimal point only).")
    try:
        price_minor = to_minor(amount, currency)
    except ValueError:
        raise InvalidValue(f"“{amount}” has more decimals than {currency} allows ({minor_digits(currency)}).") from None
    if price_minor > PRICE_MAX_MINOR:
        raise InvalidValue(f"“{amount}” is too large for a price.")
    return price_minor


def format_price(price_minor: int, currency: str) -> str:
    """79950 INR → '799.50': the plain decimal staff type and the CSV carries (no symbol)."""
    return f"{from_minor(price_minor, currency):f}"


def parse_stock(text: str) -> int:
    quantity = text.strip()
    if not quantity:
        raise InvalidValue("Enter a stock quantity (0 or more).")
    if not WHOLE_NUMBER_PATTERN.fullmatch(quantity):
        raise InvalidValue(f"“{quantity}” is not a stock quantity; use a whole number, 0 or more.")
    if int(quantity) > STOCK_MAX:
        raise InvalidValue(f"Stock can be at most {STOCK_MAX:,}.")
    return int(quantity)


def parse_stock_delta(text: str) -> int:
    """'+10' → 10, '-2' or '−2' → -2. Zero is refused: an adjustment changes something."""
    typed = text.strip().replace("\u2212", "-")  # the minus sign some keyboards and phones type
    if not SIGNED_NUMBER_PATTERN.fullmatch(typed):
        raise InvalidValue("Enter a whole number of units: +10 for stock received, -2 for stock removed.")
    delta = int(typed)
    if delta == 0:
        raise InvalidValue("Enter a change other than 0.")
    if abs(delta) > STOCK_MAX:
        raise InvalidValue(f"A single adjustment can be at most {STOCK_MAX:,} units.")
    return delta


def parse_options(text: str) -> dict[str, str]:
    """'Size=M, Colour=Red' (or with ';') → {'Size': 'M', 'Colour': 'Red'}; blank → {}."""
    if len(text) > OPTIONS_MAX:
        raise InvalidValue(f"Options can be at most {OPTIONS_MAX} characters.")
    options: dict[str, str] = {}
    for part in re.split(r"[;,]", text):
        if not part.strip():
            continue
        name, equals, value = (piece.strip() for piece in part.partition("="))
        if not equals or not name or not value:
            raise InvalidValue(f"Write options as Name=Value pairs, like “Size=M, Colour=Red” (not “{part.strip()}”).")
        if name.casefold() in {known.casefold() for known in options}:
            raise InvalidValue(f"The option “{name}” is given twice.")
        if len(name) > OPTION_PART_MAX or len(value) > OPTION_PART_MAX:
            raise InvalidValue(f"Option names and values can be at most {OPTION_PART_MAX} characters.")
        options[name] = value
    return options


def format_options(options: dict[str, str], separator: str = ", ") -> str:
    return separator.join(f"{name}={value}" for name, value in options.items())


def _options_key(options: dict[str, str]) -> frozenset:
    return frozenset((name.casefold(), value.casefold()) for name, value in options.items())


def slugify(text: str, max_length: int = SLUG_MAX, fallback: str = "product") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or fallback


def is_low_stock(available: int, threshold: int) -> bool:
    """The one low-stock rule: what can still be sold is at or below the shop's threshold."""
    return available <= threshold


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _free_value(column, base: str, max_length: int, *, taken: Iterable[str] = (), exclude_id: int | None = None):
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
        category = Category(name=name, slug=_free_value(Category.slug, slugify(name, CATEGORY_MAX, "category"), 80))
        db.session.add(category)
        db.session.flush()
    if created is not None:
        created[key] = category
    return category


def _record_movement(variant: Variant, delta: int, reason: str, staff: StaffUser | None) -> StockMovement:
    movement = StockMovement(
        variant=variant,
        delta=delta,
        stock_after=variant.stock_on_hand,
        reason=reason[:REASON_MAX],
        staff_user_id=staff.id if staff else None,
        staff_name=staff.name if staff else "",
    )
    db.session.add(movement)
    return movement


# ---------------------------------------------------------------- reading the catalog


@dataclass(frozen=True)
class VariantStock:
    on_hand: int
    reserved: int
    available: int
    is_low: bool


@dataclass(frozen=True)
class ProductRow:
    """One line of the admin product list."""

    product: Product
    lowest_price_minor: int
    highest_price_minor: int
    on_hand: int
    available: int
    low_stock_variants: int

    @property
    def has_price_range(self) -> bool:
        return self.lowest_price_minor != self.highest_price_minor

    @property
    def is_low_stock(self) -> bool:
        return self.low_stock_variants > 0


def variant_stock_levels(variants: list[Variant], threshold: int) -> dict[int, VariantStock]:
    """On hand, reserved by open orders, available and low-stock for each variant (one query)."""
    reserved = stock.reserved_quantities([v.id for v in variants])
    levels = {}
    for variant in variants:
        held = reserved.get(variant.id, 0)
        available = max(0, variant.stock_on_hand - held)
        low = variant.product.status != ProductStatus.ARCHIVED and is_low_stock(available, threshold)
        levels[variant.id] = VariantStock(variant.stock_on_hand, held, available, low)
    return levels


def list_products_for_admin(search: str = "", status: str = "", *, low_stock_threshold: int) -> list[ProductRow]:
    """Every product (or those matching the name/SKU search and status), with prices and stock summed up.

    Archived products are never flagged as low on stock: they are not for sale.
    """
    query = (
        select(Product)
        .options(selectinload(Product.variants), selectinload(Product.category))
        .order_by(func.lower(Product.name), Product.id)
    )
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
        low_stock_variants=sum(1 for level in mine if level.is_low),
    )


def get_product(product_id: int) -> Product | None:
    return db.session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(selectinload(Product.variants), selectinload(Product.category))
    )


def get_variant(variant_id: int) -> Variant | None:
    return db.session.get(Variant, variant_id)


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def stock_ledger(variant_id: int, limit: int = 200) -> list[StockMovement]:
    """The variant's stock movements, newest first."""
    return list(
        db.session.scalars(
            select(StockMovement)
            .where(StockMovement.variant_id == variant_id)
            .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- creating and editing products


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
    status: str = ProductStatus.DRAFT
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


def save_product(product: Product | None, draft: ProductDraft, *, currency: str, staff: StaffUser | None) -> Product:
    """Create (product=None) or update a product and its variants in one transaction.

    Raises ProductRejected with every problem found (nothing written). Opening stock of new variants
    is written through the ledger; stock of existing variants is changed only by `adjust_stock`.
    """
    try:
        errors: list[FieldError] = []
        fields = _checked_product_fields(product, draft, errors)
        variant_plans = _checked_variants(product, draft, currency, errors)
        if errors:
            raise ProductRejected(errors)
        product = _write_product(product, draft, fields, variant_plans, staff)
        db.session.commit()
    except CatalogError:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
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
    return dict(name=name, slug=slug, sku=sku, description=draft.description.strip().replace("\r\n", "\n"))


def _checked_slug(typed: str, name: str, own_id: int | None, errors: list[FieldError]) -> str:
    slug = typed.strip().lower()
    if not slug:
        return _free_value(Product.slug, slugify(name), SLUG_MAX, exclude_id=own_id)
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
        return _free_value(Product.sku, slug.upper(), SKU_MAX)
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
    product: Product | None, draft: ProductDraft, currency: str, errors: list[FieldError]
) -> list[_VariantPlan]:
    own = {v.id: v for v in product.variants} if product else {}
    plans = []
    for index, row in enumerate(draft.variants):
        if row.is_blank:
            continue
        plan = _checked_variant_row(index, row, own, currency, errors)
        if plan is not None:
            plans.append(plan)
    if not plans and not own and not any(e.variant_index is not None for e in errors):
        errors.append(FieldError("variants", "Add at least one variant: a SKU and a price (options may stay empty)."))
    untouched = [v for v in own.values() if v.id not in {p.existing.id for p in plans if p.existing}]
    _check_variant_skus(plans, untouched, product, errors)
    _check_variant_options(plans, untouched, errors)
    return plans


def _checked_variant_row(index: int, row: VariantDraft, own: dict, currency: str, errors) -> _VariantPlan | None:
    before = len(errors)
    existing = own.get(row.id) if row.id is not None else None
    if row.id is not None and existing is None:
        errors.append(FieldError("sku", "This variant is not part of this product.", index))
    values = {}
    for name, parse in (
        ("sku", check_sku),
        ("options", parse_options),
        ("price", lambda text: parse_price(text, currency)),
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
    seen = {_options_key(v.options) for v in untouched}
    several = len(plans) + len(untouched) > 1
    for plan in plans:
        if several and not plan.options:
            message = "A product with several variants needs options on each, like “Size=M”."
            errors.append(FieldError("options", message, plan.index))
        elif _options_key(plan.options) in seen:
            errors.append(FieldError("options", "Another variant of this product has the same options.", plan.index))
        seen.add(_options_key(plan.options))


def _write_product(product, draft: ProductDraft, fields: dict, plans: list[_VariantPlan], staff) -> Product:
    if product is None:
        product = Product()
        db.session.add(product)
    product.name, product.slug, product.sku = fields["name"], fields["slug"], fields["sku"]
    product.description = fields["description"]
    product.status = draft.status
    product.category = find_or_create_category(draft.category)
    if draft.image_url is not None:
        product.image_url = draft.image_url
    next_position = max((v.position for v in product.variants), default=-1) + 1
    for plan in plans:
        variant = plan.existing
        if variant is None:
            variant = Variant(stock_on_hand=plan.opening_stock, position=next_position)
            next_position += 1
            product.variants.append(variant)
            if plan.opening_stock:
                _record_movement(variant, plan.opening_stock, "Opening stock", staff)
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


# ---------------------------------------------------------------- product images

IMAGE_MAX_BYTES = 2 * 1024 * 1024
STORED_IMAGE_NAME = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|webp)")


def image_extension(data: bytes) -> str | None:
    """'png', 'jpg' or 'webp' when the bytes really start like one of those formats, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store_image(stream, folder: str) -> str:
    """Check and save an uploaded image under a random name in `folder`; returns that name.

    The name and extension come from us, never from the upload, so nothing a browser sends decides
    where the file lands or how it is served.
    """
    data = stream.read(IMAGE_MAX_BYTES + 1)
    if len(data) > IMAGE_MAX_BYTES:
        raise InvalidImage(f"The image is larger than {IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    extension = image_extension(data)
    if extension is None:
        raise InvalidImage("That file is not a PNG, JPEG or WebP image.")
    Path(folder).mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    with open(Path(folder) / name, "xb") as file:
        file.write(data)
    return name


def is_stored_image_name(name: str) -> bool:
    return bool(STORED_IMAGE_NAME.fullmatch(name))


def discard_image(url_or_name: str, folder: str) -> None:
    """Delete an image we stored (given its name or its URL); anything else is left alone."""
    name = url_or_name.rsplit("/", 1)[-1]
    if is_stored_image_name(name):
        (Path(folder) / name).unlink(missing_ok=True)


# ---------------------------------------------------------------- stock adjustments


def adjust_stock(variant_id: int, delta: int, reason: str, staff: StaffUser | None) -> StockMovement:
    """Add (delta > 0) or remove (delta < 0) units of one variant and record it in the ledger.

    The variant row is locked first, so the check and the change see the same stock as concurrent
    checkouts do. Stock is never taken below zero, nor below what open orders have reserved.
    """
    try:
        movement = _record_adjustment(variant_id, delta, reason, staff)
        db.session.commit()
    except CatalogError:
        db.session.rollback()
        raise
    return movement


def _record_adjustment(variant_id: int, delta: int, reason: str, staff) -> StockMovement:
    reason = reason.strip()
    if not reason:
        raise StockAdjustmentRefused("reason", "Give a reason, e.g. “received from supplier” or “damaged”.")
    if len(reason) > REASON_MAX:
        raise StockAdjustmentRefused("reason", f"The reason can be at most {REASON_MAX} characters.")
    if delta == 0 or abs(delta) > STOCK_MAX:
        raise StockAdjustmentRefused("delta", f"Enter a change from 1 to {STOCK_MAX:,} units, up or down.")
    variant = stock.lock_variants([variant_id]).get(variant_id)
    if variant is None:
        raise StockAdjustmentRefused("delta", "This variant no longer exists.")
    reserved = stock.reserved_quantities([variant_id]).get(variant_id, 0)
    after = variant.stock_on_hand + delta
    if after < 0:
        raise StockAdjustmentRefused(
            "delta", f"Only {variant.stock_on_hand} on hand: removing {-delta} would take stock below zero."
        )
    if delta < 0 and after < reserved:
        raise StockAdjustmentRefused(
            "delta",
            f"{reserved} unit(s) are reserved by open orders, so stock on hand cannot go below {reserved} "
            f"(removing {-delta} would leave {after}).",
        )
    variant.stock_on_hand = after
    return _record_movement(variant, delta, reason, staff)


# ---------------------------------------------------------------- CSV export

CSV_COLUMNS = (
    "product_sku",
    "product_name",
    "category",
    "status",
    "description",
    "variant_sku",
    "options",
    "price",
    "stock",
)
CSV_OPTIONS_SEPARATOR = "; "


def export_catalog_csv(currency: str) -> str:
    """The whole catalog, one row per variant, every cell safe to open in a spreadsheet."""
    products = db.session.scalars(
        select(Product)
        .options(selectinload(Product.variants), selectinload(Product.category))
        .order_by(func.lower(Product.name), Product.id)
    )
    rows = (
        (
            product.sku,
            product.name,
            product.category.name if product.category else "",
            product.status,
            product.description,
            variant.sku,
            format_options(variant.options, CSV_OPTIONS_SEPARATOR),
            format_price(variant.price_minor, currency),
            variant.stock_on_hand,
        )
        for product in products
        for variant in product.variants
    )
    return write_csv(rows, CSV_COLUMNS)


# ---------------------------------------------------------------- CSV import: plan (dry run), then apply

CSV_MAX_BYTES = 1024 * 1024
CSV_MAX_ROWS = 5000
IMPORT_REASON = "CSV import"


@dataclass(frozen=True)
class RowProblem:
    line: int  # 0 for a problem with the file as a whole
    message: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    product_sku: str
    product_name: str
    category: str
    status: str
    description: str
    variant_sku: str
    options: dict[str, str]
    price_minor: int
    stock: int


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class PlannedChange:
    line: int
    kind: str  # "product" or "variant"
    action: str  # "create" or "update"
    sku: str
    label: str
    fields: tuple[FieldChange, ...]


@dataclass
class ImportPlan:
    """What an import would do (or why it cannot): the dry run shows it, `apply_import` carries it out."""

    problems: list[RowProblem] = field(default_factory=list)
    changes: list[PlannedChange] = field(default_factory=list)
    rows: list[ImportRow] = field(default_factory=list)
    unchanged_rows: int = 0
    products: dict[str, Product] = field(default_factory=dict, repr=False)  # existing, by product_sku
    variants: dict[str, Variant] = field(default_factory=dict, repr=False)  # existing, by variant_sku

    @property
    def is_clean(self) -> bool:
        return not self.problems

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def count(self, kind: str, action: str) -> int:
        return sum(1 for change in self.changes if change.kind == kind and change.action == action)

    @property
    def fingerprint(self) -> str:
        """Identifies exactly these changes, so the import applies what the preview showed or nothing."""
        return hashlib.sha256(repr(self.changes).encode()).hexdigest()


def encode_upload(data: bytes) -> str:
    """The uploaded file as text for the preview's confirm form, so "Import" re-reads the very same bytes."""
    return base64.b64encode(data).decode("ascii")


def decode_upload(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise CatalogError("The uploaded file was lost on the way; please upload it again.") from None


def plan_import(data: bytes, currency: str, *, lock: bool = False) -> ImportPlan:
    """Validate every row of a catalog CSV against the file and the database; write nothing.

    Each problem names its line (the header is line 1). With lock=True the existing variants are
    locked, as `apply_import` needs.
    """
    plan = ImportPlan()
    records = _read_records(data, plan.problems)
    if records is None:
        return plan
    for line, cells in records:
        row = _parse_row(line, cells, currency, plan.problems)
        if row is not None:
            plan.rows.append(row)
    _check_rows_agree(plan)
    _check_against_catalog(plan, lock)
    if plan.is_clean:
        _plan_changes(plan, currency)
    return plan


def apply_import(data: bytes, currency: str, staff: StaffUser | None, expected_fingerprint: str) -> ImportPlan:
    """Import a clean file in one transaction: upsert by variant_sku, products grouped by product_sku.

    Refuses (ImportRejected, ImportOutdated) unless the file is still clean and would make exactly
    the changes the preview showed. Stock set by the file goes through the ledger as "CSV import".
    """
    try:
        plan = plan_import(data, currency, lock=True)
        if not plan.is_clean:
            raise ImportRejected(plan)
        if plan.fingerprint != expected_fingerprint:
            raise ImportOutdated(plan)
        _apply_plan(plan, staff)
        db.session.commit()
    except CatalogError:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        raise CatalogError(CONFLICT_MESSAGE) from None
    return plan


def _read_records(data: bytes, problems: list[RowProblem]) -> list[tuple[int, dict[str, str]]] | None:
    """The file's rows as {column: cell}, with the line each starts on; None when the file cannot be read."""
    text = _decoded_text(data, problems)
    if text is None:
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        missing = [name for name in CSV_COLUMNS if name not in header]
        if missing:
            problems.append(RowProblem(1, "Missing column(s): " + ", ".join(missing) + "."))
            return None
        return _records_after_header(reader, header, problems)
    except csv.Error as error:
        problems.append(RowProblem(reader.line_num, f"This is not a readable CSV file ({error})."))
        return None


def _decoded_text(data: bytes, problems: list[RowProblem]) -> str | None:
    if len(data) > CSV_MAX_BYTES:
        problems.append(RowProblem(0, f"The file is larger than {CSV_MAX_BYTES // 1024} KB; split it into parts."))
        return None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (as Excel writes) is dropped
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(
            RowProblem(line, "The file is not UTF-8 text (in Excel, save it as “CSV UTF-8”), or it is not a CSV.")
        )
        return None
    if "\x00" in text:
        problems.append(RowProblem(0, "This is not a CSV file (it contains binary data)."))
        return None
    if not text.strip():
        problems.append(RowProblem(0, "The file is empty."))
        return None
    return text


def _records_after_header(reader, header: list[str], problems: list[RowProblem]) -> list | None:
    records = []
    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(RowProblem(line, f"This row has {len(cells)} cells but the header has {len(header)}."))
            continue
        records.append((line, dict(zip(header, cells, strict=True))))
        if len(records) > CSV_MAX_ROWS:
            problems.append(RowProblem(line, f"The file has more than {CSV_MAX_ROWS} rows; split it into parts."))
            return None
    if not records and not problems:
        problems.append(RowProblem(0, "The file has a header but no rows."))
        return None
    return records


def _parse_row(line: int, cells: dict[str, str], currency: str, problems: list[RowProblem]) -> ImportRow | None:
    values = {name: restore_cell(cells[name].strip()).strip() for name in CSV_COLUMNS}
    before = len(problems)

    def check(column: str, parse):
        try:
            return parse(values[column])
        except InvalidValue as error:
            problems.append(RowProblem(line, f"{column}: {error.message}"))
            return None

    def limited(maximum: int, required: bool = False):
        def parse(text: str) -> str:
            if required and not text:
                raise InvalidValue("this column is empty.")
            if len(text) > maximum:
                raise InvalidValue(f"too long ({len(text)} characters; at most {maximum}).")
            return text

        return parse

    parsed = dict(
        product_sku=check("product_sku", check_sku),
        product_name=check("product_name", limited(NAME_MAX, required=True)),
        category=check("category", limited(CATEGORY_MAX)),
        status=check("status", _parse_status),
        description=check("description", limited(DESCRIPTION_MAX)),
        variant_sku=check("variant_sku", check_sku),
        options=check("options", parse_options),
        price_minor=check("price", lambda text: parse_price(text, currency)),
        stock=check("stock", parse_stock),
    )
    if len(problems) > before:
        return None
    parsed["description"] = parsed["description"].replace("\r\n", "\n")
    return ImportRow(line=line, **parsed)


def _parse_status(text: str) -> str:
    status = text.lower()
    if status not in STATUSES:
        raise InvalidValue(f"unknown status “{text}”; use " + ", ".join(STATUSES) + ".")
    return status


def _check_rows_agree(plan: ImportPlan) -> None:
    """Within the file: each variant SKU once, and one set of product details per product SKU."""
    variant_lines: dict[str, int] = {}
    first_row_of_product: dict[str, ImportRow] = {}
    for row in plan.rows:
        if row.variant_sku in variant_lines:
            message = f"variant_sku “{row.variant_sku}” is already used on line {variant_lines[row.variant_sku]}."
            plan.problems.append(RowProblem(row.line, message))
        variant_lines.setdefault(row.variant_sku, row.line)
        first = first_row_of_product.setdefault(row.product_sku, row)
        for column in ("product_name", "category", "status", "description"):
            if getattr(row, column) != getattr(first, column):
                message = (
                    f"{column} differs from line {first.line}, which has the same product_sku “{row.product_sku}”."
                )
                plan.problems.append(RowProblem(row.line, message))


def _check_against_catalog(plan: ImportPlan, lock: bool) -> None:
    """Against the database: SKUs stay with their product, stock covers reservations, options differ."""
    variant_skus = [row.variant_sku for row in plan.rows]
    existing = list(
        db.session.scalars(select(Variant).where(Variant.sku.in_(variant_skus)).options(selectinload(Variant.product)))
    )
    if lock:
        stock.lock_variants(v.id for v in existing)
    plan.variants = {v.sku: v for v in existing}
    product_skus = {row.product_sku for row in plan.rows}
    plan.products = {
        p.sku: p
        for p in db.session.scalars(
            select(Product).where(Product.sku.in_(product_skus)).options(selectinload(Product.variants))
        )
    }
    reserved = stock.reserved_quantities(v.id for v in existing)
    for row in plan.rows:
        variant = plan.variants.get(row.variant_sku)
        if variant is not None and variant.product.sku != row.product_sku:
            message = (
                f"variant_sku “{row.variant_sku}” belongs to product “{variant.product.sku}” "
                f"({variant.product.name}); a variant cannot move to another product."
            )
            plan.problems.append(RowProblem(row.line, message))
        held = reserved.get(variant.id, 0) if variant is not None else 0
        if row.stock < held:
            message = f"stock {row.stock} is below the {held} unit(s) reserved by open orders."
            plan.problems.append(RowProblem(row.line, message))
    _check_import_options(plan)


def _check_import_options(plan: ImportPlan) -> None:
    """Each product's variants, after the import, still differ by their options."""
    rows_by_product: dict[str, list[ImportRow]] = {}
    for row in plan.rows:
        rows_by_product.setdefault(row.product_sku, []).append(row)
    for product_sku, rows in rows_by_product.items():
        in_file = {row.variant_sku for row in rows}
        product = plan.products.get(product_sku)
        kept = [v for v in product.variants if v.sku not in in_file] if product else []
        seen = {_options_key(v.options): v.sku for v in kept}
        several = len(rows) + len(kept) > 1
        for row in rows:
            key = _options_key(row.options)
            if several and not row.options:
                message = f"options are empty, but product “{product_sku}” has several variants; give each its options."
                plan.problems.append(RowProblem(row.line, message))
            elif key in seen:
                message = f"options “{format_options(row.options)}” are the same as variant “{seen[key]}”."
                plan.problems.append(RowProblem(row.line, message))
            seen.setdefault(key, row.variant_sku)


def _plan_changes(plan: ImportPlan, currency: str) -> None:
    planned_products: set[str] = set()
    for row in plan.rows:
        if row.product_sku not in planned_products:
            planned_products.add(row.product_sku)
            change = _product_change(row, plan.products.get(row.product_sku))
            if change is not None:
                plan.changes.append(change)
        change = _variant_change(row, plan.variants.get(row.variant_sku), currency)
        if change is None:
            plan.unchanged_rows += 1
        else:
            plan.changes.append(change)


def _product_change(row: ImportRow, product: Product | None) -> PlannedChange | None:
    current = dict(
        name=product.name if product else "",
        category=product.category.name if product and product.category else "",
        status=product.status if product else "",
        description=product.description if product else "",
    )
    wanted = dict(name=row.product_name, category=row.category, status=row.status, description=row.description)
    fields = tuple(
        FieldChange(name, current[name], wanted[name])
        for name in wanted
        if not _same_product_value(name, current[name], wanted[name])
    )
    if product is not None and not fields:
        return None
    action = "update" if product else "create"
    return PlannedChange(row.line, "product", action, row.product_sku, row.product_name, fields)


def _same_product_value(name: str, current: str, wanted: str) -> bool:
    # Categories are matched by name in any case (see find_or_create_category), so "tea" is no change from "Tea".
    return current.casefold() == wanted.casefold() if name == "category" else current == wanted


def _variant_change(row: ImportRow, variant: Variant | None, currency: str) -> PlannedChange | None:
    wanted = dict(
        options=format_options(row.options), price=format_price(row.price_minor, currency), stock=str(row.stock)
    )
    if variant is None:
        current = dict(options="", price="", stock="")
    else:
        current = dict(
            options=format_options(variant.options),
            price=format_price(variant.price_minor, currency),
            stock=str(variant.stock_on_hand),
        )
    fields = tuple(FieldChange(name, current[name], wanted[name]) for name in wanted if current[name] != wanted[name])
    if variant is not None and not fields:
        return None
    action = "update" if variant else "create"
    label = f"{row.product_name} ({wanted['options']})" if row.options else row.product_name
    return PlannedChange(row.line, "variant", action, row.variant_sku, label, fields)


def _apply_plan(plan: ImportPlan, staff: StaffUser | None) -> None:
    categories: dict[str, Category] = {}
    products = dict(plan.products)
    taken_slugs: set[str] = set()
    for row in plan.rows:
        product = products.get(row.product_sku)
        if product is None:
            slug = _free_value(Product.slug, slugify(row.product_name), SLUG_MAX, taken=taken_slugs)
            taken_slugs.add(slug)
            product = products[row.product_sku] = Product(sku=row.product_sku, slug=slug)
            db.session.add(product)
        product.name, product.status, product.description = row.product_name, row.status, row.description
        product.category = find_or_create_category(row.category, categories)
        _apply_variant(row, product, plan.variants.get(row.variant_sku), staff)
    db.session.flush()


def _apply_variant(row: ImportRow, product: Product, variant: Variant | None, staff) -> None:
    if variant is None:
        position = max((v.position for v in product.variants), default=-1) + 1
        variant = Variant(sku=row.variant_sku, stock_on_hand=0, position=position)
        product.variants.append(variant)
    variant.options, variant.price_minor = row.options, row.price_minor
    delta = row.stock - variant.stock_on_hand
    if delta:
        variant.stock_on_hand = row.stock
        _record_movement(variant, delta, IMPORT_REASON, staff)
