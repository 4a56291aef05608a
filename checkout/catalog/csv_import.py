"""Catalog CSV import: a dry run (the plan) staff preview, then the same plan applied in one transaction.

The file is checked as a whole, against itself and the catalog, before anything is written; the import
applies exactly the changes the preview showed (its fingerprint) or nothing. Rows are upserted by
variant_sku and grouped into products by product_sku; stock the file sets goes through the ledger.
"""

import base64
import csv
import hashlib
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout.catalog import stock
from checkout.catalog.csv_export import CSV_COLUMNS, OPTIONAL_CSV_COLUMNS
from checkout.catalog.errors import CONFLICT_MESSAGE, CatalogError, InvalidValue
from checkout.catalog.products import find_or_create_category
from checkout.catalog.queries import free_value
from checkout.catalog.values import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    SLUG_MAX,
    STATUSES,
    check_sku,
    format_duration,
    format_options,
    format_price,
    options_key,
    parse_duration,
    parse_keywords,
    parse_kind,
    parse_options,
    parse_price,
    parse_stock,
    slugify,
)
from checkout.csv_safety import restore_cell
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.catalog import Category, Product, Variant
from checkout.models.staff import StaffUser
from checkout.orders import locks

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
    keywords: str | None = None  # None: the file has no keywords column, so the product's stay as they are
    kind: str | None = None  # None: no kind column, the product's kind and duration stay as they are
    duration_minutes: int | None = None


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


class ImportRejected(CatalogError):
    """The file has problems; nothing was imported."""

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__(f"The file has {len(plan.problems)} problem(s); nothing was imported.")


class ImportOutdated(CatalogError):
    """The catalog changed between the preview and the import; the new preview must be confirmed."""

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        super().__init__("The catalog changed since the preview. Check the updated preview and import again.")


def encode_upload(data: bytes) -> str:
    """The uploaded file as text for the preview's confirm form, so "Import" re-reads the very same bytes."""
    return base64.b64encode(data).decode("ascii")


def decode_upload(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise CatalogError("The uploaded file was lost on the way; please upload it again.") from None


def plan_import(data: bytes, currency: str, *, locale: str = "en", lock: bool = False) -> ImportPlan:
    """Validate every row of a catalog CSV against the file and the database; write nothing.

    Each problem names its line (the header is line 1). With lock=True the existing variants are
    locked, as `apply_import` needs.
    """
    plan = ImportPlan()
    records = _read_records(data, plan.problems)
    if records is None:
        return plan
    for line, cells in records:
        row = _parse_row(line, cells, currency, locale, plan.problems)
        if row is not None:
            plan.rows.append(row)
    _check_rows_agree(plan)
    _check_against_catalog(plan, lock)
    if plan.is_clean:
        _plan_changes(plan, currency)
    return plan


def apply_import(
    data: bytes, currency: str, staff: StaffUser | None, expected_fingerprint: str, *, locale: str = "en"
) -> ImportPlan:
    """Import a clean file in one transaction: upsert by variant_sku, products grouped by product_sku.

    Refuses (ImportRejected, ImportOutdated) unless the file is still clean and would make exactly
    the changes the preview showed. Stock set by the file goes through the ledger as "CSV import".
    """
    try:
        with transaction():
            plan = plan_import(data, currency, locale=locale, lock=True)
            if not plan.is_clean:
                raise ImportRejected(plan)
            if plan.fingerprint != expected_fingerprint:
                raise ImportOutdated(plan)
            _apply_plan(plan, staff)
    except IntegrityError:
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
        missing = [name for name in CSV_COLUMNS if name not in header and name not in OPTIONAL_CSV_COLUMNS]
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


def _parse_row(
    line: int, cells: dict[str, str], currency: str, locale: str, problems: list[RowProblem]
) -> ImportRow | None:
    values = {name: restore_cell(cells[name].strip()).strip() for name in CSV_COLUMNS if name in cells}
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
        price_minor=check("price", lambda text: parse_price(text, currency, locale, from_file=True)),
        keywords=check("keywords", parse_keywords) if "keywords" in values else None,
    )
    kind = check("kind", parse_kind) if "kind" in values else None
    parsed["kind"] = kind
    kind_unread = "kind" in values and kind is None  # reported above: the duration can't be judged without it
    if "duration_minutes" in values and not kind_unread:
        parsed["duration_minutes"] = check("duration_minutes", lambda text: parse_duration(text, kind or "goods"))
    elif kind == "service":
        problems.append(RowProblem(line, "duration_minutes: a service needs this column, with its minutes."))
    # A service keeps no stock: its stock cell may stay blank.
    parsed["stock"] = 0 if kind == "service" and not values["stock"] else check("stock", parse_stock)
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
        for column in ("product_name", "category", "status", "description", "keywords", "kind", "duration_minutes"):
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
        locks.lock_variants(v.id for v in existing)
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
        seen = {options_key(v.options): v.sku for v in kept}
        several = len(rows) + len(kept) > 1
        for row in rows:
            key = options_key(row.options)
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
    if row.keywords is not None:
        current["keywords"] = product.keywords if product else ""
        wanted["keywords"] = row.keywords
    if row.kind is not None:
        current["kind"] = product.kind if product else ""
        wanted["kind"] = row.kind
        current["duration"] = format_duration(product.duration_minutes) if product else ""
        wanted["duration"] = format_duration(row.duration_minutes)
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
            slug = free_value(Product.slug, slugify(row.product_name), SLUG_MAX, taken=taken_slugs)
            taken_slugs.add(slug)
            product = products[row.product_sku] = Product(sku=row.product_sku, slug=slug)
            db.session.add(product)
        product.name, product.status, product.description = row.product_name, row.status, row.description
        if row.keywords is not None:
            product.keywords = row.keywords
        if row.kind is not None:
            product.kind, product.duration_minutes = row.kind, row.duration_minutes
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
        stock.change_on_hand_by_staff(variant, delta, IMPORT_REASON, staff)
