"""Admin: discount codes (owners and managers) — the list with their uses, a new code, pause and resume,
who used a code, and the list as CSV. The rules live in checkout/orders/coupon_management.py."""

from datetime import date

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.catalog.queries import list_categories
from checkout.models.coupons import CODE_MAX, CouponKind
from checkout.models.store import get_store_settings
from checkout.orders.coupon_management import (
    CouponDraft,
    InvalidCoupon,
    coupon_redemptions,
    coupons_csv,
    coupons_with_usage,
    create_coupon,
    describe_value,
    find_coupon_by_id,
    list_products_for_scope,
    set_paused,
)
from checkout.staff.permissions import Permission


class NewCouponForm(FlaskForm):
    """Parsing only: what each field may hold is checked by create_coupon, every problem at once."""

    code = StringField(
        "Code",
        description=f"What shoppers type, e.g. WELCOME10. Letters, digits, dashes; any case; at most {CODE_MAX}.",
        render_kw={"maxlength": CODE_MAX, "autocapitalize": "characters", "spellcheck": "false"},
    )
    kind = RadioField(
        "What it gives",
        choices=[SelectChoice(kind.value, kind.label) for kind in CouponKind],
        default=CouponKind.PERCENT.value,
        validate_choice=False,
    )
    value = StringField("Percentage or amount off", description="10 for 10 % off, or an amount like 100.00.")
    minimum_subtotal = StringField("Minimum subtotal (optional)", description="The items must add up to at least this.")
    starts_at = StringField("Starts (optional)", render_kw={"type": "datetime-local"})
    ends_at = StringField("Ends (optional)", render_kw={"type": "datetime-local"})
    usage_limit = StringField("Uses in all (optional)", render_kw={"inputmode": "numeric"})
    per_customer_limit = StringField(
        "Uses per customer (optional)", description="Counted per WhatsApp number.", render_kw={"inputmode": "numeric"}
    )
    category_ids = SelectMultipleField("Only these categories (optional)", coerce=int, validate_choice=False)
    product_ids = SelectMultipleField("Only these products (optional)", coerce=int, validate_choice=False)


def _draft_from(form: NewCouponForm) -> CouponDraft:
    return CouponDraft(
        code=form.code.data or "",
        kind=form.kind.data or "",
        value=form.value.data or "",
        minimum_subtotal=form.minimum_subtotal.data or "",
        starts_at=form.starts_at.data or "",
        ends_at=form.ends_at.data or "",
        usage_limit=form.usage_limit.data or "",
        per_customer_limit=form.per_customer_limit.data or "",
        product_ids=list(form.product_ids.data or []),
        category_ids=list(form.category_ids.data or []),
    )


def _coupon_or_404(coupon_id: int):
    coupon = find_coupon_by_id(coupon_id)
    if coupon is None:
        abort(404)
    return coupon


@bp.get("/coupons")
@requires(Permission.MANAGE_COUPONS)
def coupons():
    settings = get_store_settings()
    return render_template(
        "admin/coupons/list.html",
        usages=coupons_with_usage(),
        describe=lambda coupon: describe_value(coupon, settings),
    )


@bp.route("/coupons/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_COUPONS)
def coupon_new():
    form = NewCouponForm()
    form.category_ids.choices = [SelectChoice(category.id, category.name) for category in list_categories()]
    form.product_ids.choices = [SelectChoice(product.id, product.name) for product in list_products_for_scope()]
    if not form.is_submitted():
        return render_template("admin/coupons/new.html", form=form)
    form.validate()  # types only (the scope lists' numbers); the rules are create_coupon's
    if form.product_ids.errors or form.category_ids.errors:  # a scope that can't be read is never dropped quietly
        return render_template("admin/coupons/new.html", form=form), 422
    try:
        coupon = create_coupon(_draft_from(form), get_store_settings())
    except InvalidCoupon as refused:
        for name, message in refused.errors.items():
            form[name].errors = [message]
        return render_template("admin/coupons/new.html", form=form), 422
    flash(f"Code {coupon.code} created.", "success")
    return redirect(url_for("admin.coupons"), 303)


@bp.post("/coupons/<int:coupon_id>/pause")
@requires(Permission.MANAGE_COUPONS)
def coupon_pause(coupon_id: int):
    coupon = set_paused(_coupon_or_404(coupon_id), True)
    flash(f"Code {coupon.code} paused: shoppers are told it is not available.", "success")
    return redirect(url_for("admin.coupons"), 303)


@bp.post("/coupons/<int:coupon_id>/resume")
@requires(Permission.MANAGE_COUPONS)
def coupon_resume(coupon_id: int):
    coupon = set_paused(_coupon_or_404(coupon_id), False)
    flash(f"Code {coupon.code} can be used again.", "success")
    return redirect(url_for("admin.coupons"), 303)


@bp.get("/coupons/<int:coupon_id>")
@requires(Permission.MANAGE_COUPONS)
def coupon_usage(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    settings = get_store_settings()
    return render_template(
        "admin/coupons/usage.html",
        coupon=coupon,
        description=describe_value(coupon, settings),
        redemptions=coupon_redemptions(coupon),
    )


@bp.get("/coupons/export.csv")
@requires(Permission.MANAGE_COUPONS)
def coupons_export():
    headers = {"Content-Disposition": f'attachment; filename="discount-codes-{date.today().isoformat()}.csv"'}
    return Response(coupons_csv(get_store_settings()), mimetype="text/csv", headers=headers)
