"""Admin: catalog and stock — product list, product and variant pages, stock adjustments, CSV, images.

Views parse the request, call checkout/catalog/ and render; every rule lives there. HTMX
requests get only the block they swap, from the same template as the full page.
"""

from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.catalog.csv_export import CSV_COLUMNS, export_catalog_csv
from checkout.catalog.csv_import import (
    CSV_MAX_BYTES,
    ImportOutdated,
    ImportRejected,
    apply_import,
    decode_upload,
    encode_upload,
    plan_import,
)
from checkout.catalog.errors import CatalogError, InvalidImage, InvalidValue, ProductRejected, StockAdjustmentRefused
from checkout.catalog.images import discard_image, is_stored_image_name, store_image
from checkout.catalog.products import ProductDraft, VariantDraft, archive_product, restore_product, save_product
from checkout.catalog.queries import SEARCH_MAX, get_product, get_variant, list_categories, list_products_for_admin
from checkout.catalog.stock import REASON_MAX, adjust_stock, stock_ledger, variant_stock_levels
from checkout.catalog.values import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    KEYWORDS_MAX,
    NAME_MAX,
    OPTIONS_MAX,
    SKU_MAX,
    SLUG_MAX,
    STATUSES,
    format_options,
    parse_stock_delta,
)
from checkout.models import ProductKind, ProductStatus
from checkout.models.store import get_store_settings
from checkout.money import format_amount_for_input
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_page_or_block, wants_fragment
from checkout.web.integer_input import parse_id

IMAGE_CACHE_SECONDS = 365 * 24 * 3600  # stored images never change: each upload gets a new random name
BLANK_VARIANT_ROWS_NEW = 3
BLANK_VARIANT_ROWS_EDIT = 1
STATUS_CHOICES = [SelectChoice(s.value, s.value.capitalize()) for s in ProductStatus]
KIND_CHOICES = [SelectChoice(ProductKind.GOODS.value, "Goods"), SelectChoice(ProductKind.SERVICE.value, "Service")]


# ---------------------------------------------------------------- forms (parsing only; the rules are in checkout/)


class VariantForm(Form):
    id = HiddenField()
    sku = StringField("SKU", validators=[Length(max=SKU_MAX)])
    options = StringField("Options", validators=[Length(max=OPTIONS_MAX)])
    price = StringField("Price", validators=[Length(max=20)])
    stock = StringField("Opening stock", validators=[Length(max=10)])


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=NAME_MAX)])
    slug = StringField("Slug", validators=[Length(max=SLUG_MAX)], description="Leave blank to make one from the name.")
    sku = StringField(
        "Product SKU",
        validators=[Length(max=SKU_MAX)],
        description="Groups the variants in CSV files. Leave blank to make one from the slug.",
    )
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])
    category = StringField(
        "Category",
        validators=[Length(max=CATEGORY_MAX)],
        description="Choose an existing category or type a new one.",
    )
    keywords = StringField(
        "Keywords",
        validators=[Length(max=KEYWORDS_MAX)],
        description="Other words customers use for it, separated by commas (like “chai, tea”): "
        "orders in WhatsApp find the product by these too.",
    )
    status = SelectField("Status", choices=STATUS_CHOICES, default=ProductStatus.DRAFT.value)
    kind = SelectField(
        "Kind",
        choices=KIND_CHOICES,
        default=ProductKind.GOODS.value,
        description="Goods are kept in stock. A service is time in the WhatsApp chat (a consultation, a lesson): "
        "no stock or image needed; it starts with the first staff reply after payment.",
    )
    duration_minutes = StringField(
        "Duration in minutes",
        validators=[Length(max=10)],
        description="Services only: the minutes one unit buys, like 60.",
    )
    image = FileField("Image", description="PNG, JPEG or WebP, at most 2 MB.")
    remove_image = BooleanField("Remove the current image")
    variants = FieldList(FormField(VariantForm))


class StockAdjustmentForm(FlaskForm):
    delta = StringField("Change in units", description="+10 for stock received, -2 for damaged or lost.")
    reason = StringField("Reason", validators=[Length(max=REASON_MAX)])


class ImportUploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired(message="Choose a CSV file to upload.")])


class ImportConfirmForm(FlaskForm):
    csv_data = HiddenField()
    fingerprint = HiddenField()


# ---------------------------------------------------------------- helpers


def _settings():
    return get_store_settings()


def _staff():
    return current_user._get_current_object()


def _upload_folder() -> str:
    return current_app.config["UPLOAD_FOLDER"]


def _product_or_404(product_id: int):
    product = get_product(product_id)
    if product is None:
        abort(404)
    return product


def _variant_or_404(variant_id: int):
    variant = get_variant(variant_id)
    if variant is None:
        abort(404)
    return variant


# ---------------------------------------------------------------- product list


@bp.get("/products")
@requires(Permission.VIEW_CATALOG)
def products():
    search = request.args.get("q", "").strip()[:SEARCH_MAX]
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    context = dict(
        rows=list_products_for_admin(search, status, low_stock_threshold=_settings().low_stock_threshold),
        search=search,
        status=status,
        status_choices=STATUS_CHOICES,
    )
    response = Response(render_page_or_block("admin/catalog/products.html", "results", **context))
    response.vary.add("HX-Request")
    return response


# ---------------------------------------------------------------- product pages


@bp.get("/products/<int:product_id>")
@requires(Permission.VIEW_CATALOG)
def product_detail(product_id: int):
    product = _product_or_404(product_id)
    levels = variant_stock_levels(product.variants, _settings().low_stock_threshold)
    return render_template("admin/catalog/product.html", product=product, levels=levels)


@bp.route("/products/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CATALOG)
def product_new():
    form = ProductForm()
    if form.validate_on_submit():
        product = _save_product_form(form, None)
        if product is not None:
            flash(f"Created “{product.name}”.", "success")
            return redirect(url_for("admin.product_detail", product_id=product.id), 303)
    for _ in range(BLANK_VARIANT_ROWS_NEW - len(form.variants.entries)):
        form.variants.append_entry()
    return _render_product_form(form, None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@requires(Permission.EDIT_CATALOG)
def product_edit(product_id: int):
    product = _product_or_404(product_id)
    form = ProductForm() if request.method == "POST" else ProductForm(data=_form_data(product))
    if form.validate_on_submit():
        saved = _save_product_form(form, product)
        if saved is not None:
            flash(f"Saved “{saved.name}”.", "success")
            return redirect(url_for("admin.product_detail", product_id=saved.id), 303)
    if request.method == "GET":
        for _ in range(BLANK_VARIANT_ROWS_EDIT):
            form.variants.append_entry()
    return _render_product_form(form, product)


def _form_data(product) -> dict:
    return dict(
        name=product.name,
        slug=product.slug,
        sku=product.sku,
        description=product.description,
        category=product.category.name if product.category else "",
        keywords=product.keywords,
        status=product.status,
        kind=product.kind,
        duration_minutes=str(product.duration_minutes or ""),
        variants=[
            dict(
                id=str(v.id),
                sku=v.sku,
                options=format_options(v.options),
                price=format_amount_for_input(v.price_minor, _settings().currency, _settings().locale),
                stock="",
            )
            for v in product.variants
        ],
    )


def _render_product_form(form: ProductForm, product):
    existing = {v.id: v for v in product.variants} if product else {}
    rows = [(entry, existing.get(_int_or_none(entry.form.id.data))) for entry in form.variants]
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/catalog/product_form.html",
        form=form,
        product=product,
        variant_rows=rows,
        categories=list_categories(),
        currency=_settings().currency,
    ), status


def _int_or_none(text) -> int | None:
    return parse_id(str(text)) if text else None


def _save_product_form(form: ProductForm, product):
    """Store the image (if any), then save; on refusal the errors go onto the form and the image is discarded."""
    image_name = None
    if form.image.data:
        try:
            image_name = store_image(form.image.data.stream, _upload_folder())
        except InvalidImage as error:
            form.image.errors.append(str(error))
            return None
    old_image = product.image_url if product else ""
    draft = _draft_from_form(form, image_name)
    try:
        saved = save_product(product, draft, currency=_settings().currency, locale=_settings().locale, staff=_staff())
    except ProductRejected as rejected:
        if image_name:
            discard_image(image_name, _upload_folder())
        _attach_errors(form, rejected.errors)
        return None
    if draft.image_url is not None and old_image and old_image != draft.image_url:
        discard_image(old_image, _upload_folder())
    return saved


def _image_url(form: ProductForm, image_name: str | None) -> str | None:
    """The new image's URL, "" to remove the current image, or None to keep it."""
    if image_name:
        return url_for("admin.media", filename=image_name)
    return "" if form.remove_image.data else None


def _draft_from_form(form: ProductForm, image_name: str | None) -> ProductDraft:
    return ProductDraft(
        name=form.name.data or "",
        slug=form.slug.data or "",
        sku=form.sku.data or "",
        description=form.description.data or "",
        category=form.category.data or "",
        keywords=form.keywords.data or "",
        status=form.status.data,
        kind=form.kind.data or ProductKind.GOODS.value,
        duration_minutes=form.duration_minutes.data or "",
        image_url=_image_url(form, image_name),
        variants=tuple(
            VariantDraft(
                id=_int_or_none(entry.form.id.data),
                sku=entry.form.sku.data or "",
                options=entry.form.options.data or "",
                price=entry.form.price.data or "",
                stock=entry.form.stock.data or "",
            )
            for entry in form.variants
        ),
    )


def _attach_errors(form: ProductForm, errors) -> None:
    for error in errors:
        if error.variant_index is not None:
            form.variants.entries[error.variant_index].form[error.field].errors.append(error.message)
        elif error.field in form and error.field != "variants":
            form[error.field].errors.append(error.message)
        else:
            form.form_errors.append(error.message)
    # FieldList keeps the errors its entries had when it validated; refresh it so form.errors tells the truth.
    form.variants.errors = [entry.errors for entry in form.variants.entries if entry.errors]


@bp.post("/products/<int:product_id>/archive")
@requires(Permission.EDIT_CATALOG)
def product_archive(product_id: int):
    product = _product_or_404(product_id)
    archive_product(product)
    flash(f"Archived “{product.name}”: it is no longer shown or sold.", "success")
    return redirect(url_for("admin.product_detail", product_id=product.id), 303)


@bp.post("/products/<int:product_id>/unarchive")
@requires(Permission.EDIT_CATALOG)
def product_unarchive(product_id: int):
    product = _product_or_404(product_id)
    restore_product(product)
    flash(f"Restored “{product.name}” as a draft. Make it active when it is ready to sell.", "success")
    return redirect(url_for("admin.product_detail", product_id=product.id), 303)


# ---------------------------------------------------------------- variant page and stock adjustments


@bp.get("/products/variants/<int:variant_id>")
@requires(Permission.VIEW_CATALOG)
def product_variant(variant_id: int):
    variant = _variant_or_404(variant_id)
    return _render_variant(variant, StockAdjustmentForm(formdata=None))


@bp.post("/products/variants/<int:variant_id>/stock")
@requires(Permission.EDIT_CATALOG)
def product_stock_adjust(variant_id: int):
    variant = _variant_or_404(variant_id)
    form = StockAdjustmentForm()
    if form.validate_on_submit() and _adjust_from_form(form, variant_id):
        if not wants_fragment():
            flash("Stock updated.", "success")
            return redirect(url_for("admin.product_variant", variant_id=variant_id), 303)
        return _render_variant(variant, StockAdjustmentForm(formdata=None), saved=True)
    return _render_variant(variant, form, status=422)  # the admin's htmx config swaps 422s: they carry the errors


def _adjust_from_form(form: StockAdjustmentForm, variant_id: int) -> bool:
    try:
        delta = parse_stock_delta(form.delta.data or "")
    except InvalidValue as error:
        form.delta.errors.append(str(error))
        return False
    try:
        adjust_stock(variant_id, delta, form.reason.data or "", _staff())
    except StockAdjustmentRefused as refused:
        form[refused.field].errors.append(str(refused))
        return False
    return True


def _render_variant(variant, form: StockAdjustmentForm, *, status: int = 200, saved: bool = False):
    context = dict(
        variant=variant,
        product=variant.product,
        level=variant_stock_levels([variant], _settings().low_stock_threshold)[variant.id],
        ledger=stock_ledger(variant.id),
        form=form,
        saved=saved,
        currency=_settings().currency,
    )
    return render_page_or_block("admin/catalog/variant.html", "stock_panel", **context), status


# ---------------------------------------------------------------- CSV export and import


@bp.get("/products/export.csv")
@requires(Permission.VIEW_CATALOG)
def products_export():
    # The byte-order mark makes Excel read the file as UTF-8; the importer drops it again.
    body = "\ufeff" + export_catalog_csv(_settings().currency)
    filename = f"catalog-{datetime.now(UTC):%Y%m%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/products/import", methods=["GET", "POST"])
@requires(Permission.EDIT_CATALOG)
def products_import():
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _render_import(form=form, status=422 if form.errors else 200)
    data = form.file.data.stream.read(CSV_MAX_BYTES + 1)
    plan = plan_import(data, _settings().currency, locale=_settings().locale)
    confirm = ImportConfirmForm(formdata=None, csv_data=encode_upload(data), fingerprint=plan.fingerprint)
    return _render_import(form=form, plan=plan, confirm=confirm, status=200 if plan.is_clean else 422)


@bp.post("/products/import/apply")
@requires(Permission.EDIT_CATALOG)
def products_import_apply():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = decode_upload(form.csv_data.data or "")
        plan = apply_import(
            data, _settings().currency, _staff(), form.fingerprint.data or "", locale=_settings().locale
        )
    except ImportRejected as rejected:
        return _render_import(form=ImportUploadForm(formdata=None), plan=rejected.plan, status=422)
    except ImportOutdated as outdated:
        confirm = ImportConfirmForm(formdata=None, csv_data=form.csv_data.data, fingerprint=outdated.plan.fingerprint)
        return _render_import(
            form=ImportUploadForm(formdata=None), plan=outdated.plan, confirm=confirm, notice=str(outdated), status=409
        )
    except CatalogError as error:
        return _render_import(form=ImportUploadForm(formdata=None), notice=str(error), status=422)
    flash(
        f"Imported: {plan.count('product', 'create')} product(s) created, {plan.count('product', 'update')} updated; "
        f"{plan.count('variant', 'create')} variant(s) created, {plan.count('variant', 'update')} updated.",
        "success",
    )
    return redirect(url_for("admin.products"), 303)


def _render_import(*, form, plan=None, confirm=None, notice: str | None = None, status: int = 200):
    return render_template(
        "admin/catalog/import.html",
        form=form,
        plan=plan,
        confirm=confirm,
        notice=notice,
        columns=CSV_COLUMNS,
        max_kb=CSV_MAX_BYTES // 1024,
    ), status


# ---------------------------------------------------------------- product images (public: shoppers see them)


@bp.get("/media/<filename>")
def media(filename: str):
    if not is_stored_image_name(filename):
        abort(404)
    response = send_from_directory(_upload_folder(), filename, max_age=IMAGE_CACHE_SECONDS)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
