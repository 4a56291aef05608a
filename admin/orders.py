"""Admin: the order desk — list with tabs and filters, order detail, and every staff action on an order.

Views parse the request, call checkout.orders.desk, and render. HTMX requests get only the part
of the page they swap; the same URLs work as plain pages and form posts without JavaScript.
"""

import json
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin import admin_blueprint as bp
from admin.access import can, requires
from admin.order_forms import AssignForm, BulkStatusForm, FulfilmentForm, NoteForm, PaymentForm, RefundForm, StatusForm
from checkout.extensions import db
from checkout.fragments import render_block, wants_fragment
from checkout.models import StaffUser
from checkout.money import to_minor
from checkout.orders import desk, export, queries
from checkout.orders.errors import InvalidFulfilment, OrderError, StaleOrder
from checkout.orders.lifecycle import OrderStatus, allowed_transitions
from checkout.permissions import Permission


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from_request() -> queries.OrderFilters:
    args = request.args
    status = args.get("status", "")
    source = args.get("source", "")
    return queries.OrderFilters(
        status=status if status in OrderStatus.__members__.values() else None,
        search=args.get("q", "")[:100],
        date_from=_parse_date(args.get("from")),
        date_to=_parse_date(args.get("to")),
        assigned_to=args.get("assigned", "")[:12],
        source=source if source in queries.SOURCES else None,
    )


def _staff_choices() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name)))


@bp.get("/")
@requires(Permission.VIEW_ORDERS)
def home():
    return redirect(url_for("admin.dashboard" if can(Permission.VIEW_DASHBOARD) else "admin.orders"))


@bp.get("/orders")
@requires(Permission.VIEW_ORDERS)
def orders():
    filters = filters_from_request()
    page = queries.find_orders(filters, after=request.args.get("after"))
    context = dict(
        filters=filters,
        page=page,
        counts=queries.status_counts(filters),
        statuses=list(OrderStatus),
        staff=_staff_choices(),
        newest_id=queries.newest_order_id(),
        bulk_form=BulkStatusForm(),
        query_args={k: v for k, v in request.args.items() if k not in ("after", "status") and v},
    )
    if wants_fragment() and request.headers.get("HX-Target") == "order-desk":
        return render_block("admin/orders.html", "desk", **context)
    return render_template("admin/orders.html", **context)


@bp.get("/orders/new")
@requires(Permission.VIEW_ORDERS)
def new_orders_notice():
    """Polled by the order list: tells staff (and the browser) when orders arrived since the page loaded."""
    since = request.args.get("since", "0")
    count = queries.count_orders_after(int(since)) if since.isdigit() else 0
    response = render_template("admin/_new_orders.html", count=count)
    headers = {"HX-Trigger": json.dumps({"chatout:new-orders": count})} if count else {}
    return response, 200, headers


@bp.get("/orders/pending-count")
@requires(Permission.VIEW_ORDERS)
def pending_count():
    return render_template("admin/_pending_badge.html", count=queries.count_pending())


@bp.get("/orders/export.csv")
@requires(Permission.EXPORT_ORDERS)
def orders_export():
    body = export.orders_csv(filters_from_request())
    headers = {"Content-Disposition": f'attachment; filename="orders-{date.today().isoformat()}.csv"'}
    return Response(body, mimetype="text/csv", headers=headers)


@bp.post("/orders/bulk")
@requires(Permission.CHANGE_ORDER_STATUS)
def bulk_status():
    form = BulkStatusForm()
    references = [r for r in request.form.getlist("reference") if r][:200]
    if not form.validate() or not references:
        flash("Select at least one order and a status.", "error")
        return redirect(url_for("admin.orders", **request.args))
    try:
        result = desk.bulk_change_status(references, form.target.data, staff=current_user)
    except OrderError as error:
        flash(str(error), "error")
        return redirect(url_for("admin.orders", **request.args))
    label = OrderStatus(form.target.data).label.lower()
    if result.changed:
        flash(f"{len(result.changed)} order(s) marked {label}: {', '.join(result.changed)}.", "success")
    for reference, reason in result.skipped:
        flash(f"{reference} not changed: {reason}", "warning")
    return redirect(url_for("admin.orders", **request.args))


def _load(reference: str, for_update: bool = False):
    order = queries.get_order_by_reference(reference, for_update=for_update)
    if order is None:
        abort(404)
    return order


def _detail_context(order, **forms):
    fulfilment = forms.pop("fulfilment_form", None) or FulfilmentForm(obj=order, formdata=None)
    assign = forms.pop("assign_form", None) or AssignForm(formdata=None)
    assign.assignee.choices = [("", "Nobody")] + [(str(s.id), s.name) for s in _staff_choices()]
    assign.assignee.data = str(order.assigned_to_id or "")
    for form in (fulfilment, assign):
        form.version.data = order.version
    return dict(
        order=order,
        transitions=allowed_transitions(order),
        fulfilment_form=fulfilment,
        assign_form=assign,
        note_form=forms.pop("note_form", None) or NoteForm(formdata=None),
        payment_form=forms.pop("payment_form", None) or PaymentForm(formdata=None, amount=None),
        refund_form=forms.pop("refund_form", None) or RefundForm(formdata=None),
        error=forms.pop("error", None),
        success=forms.pop("success", None),
        OrderStatus=OrderStatus,
    )


def _render_detail(order, status: int = 200, **forms):
    context = _detail_context(order, **forms)
    if wants_fragment():
        return render_block("admin/order_detail.html", "panel", **context), status
    return render_template("admin/order_detail.html", **context), status


def _after_change(order, message: str):
    if wants_fragment():
        db.session.refresh(order)
        return _render_detail(order, success=message)
    flash(message, "success")
    return redirect(url_for("admin.order_detail", reference=order.reference), 303)


def _failed(reference: str, error: Exception, **forms):
    """Render the order as it is now, with the error; 409 when someone else changed it."""
    order = _load(reference)
    status = 409 if isinstance(error, StaleOrder) else 422
    return _render_detail(order, status, error=str(error), **forms)


@bp.get("/orders/<reference>")
@requires(Permission.VIEW_ORDERS)
def order_detail(reference: str):
    return _render_detail(_load(reference))


@bp.post("/orders/<reference>/status")
@requires(Permission.CHANGE_ORDER_STATUS)
def order_status(reference: str):
    form = StatusForm()
    if not form.validate():
        return _failed(reference, InvalidFulfilment("status", _first_error(form)))
    order = _load(reference, for_update=True)
    shipping = None
    if form.carrier.data or form.tracking_number.data or form.tracking_url.data:
        shipping = desk.FulfilmentDetails(
            carrier=(form.carrier.data or "").strip(),
            tracking_number=(form.tracking_number.data or "").strip(),
            tracking_url=(form.tracking_url.data or "").strip(),
            expected_delivery_date=order.expected_delivery_date,
        )
    try:
        desk.change_status(
            order,
            form.target.data,
            staff=current_user,
            expected_version=form.version.data,
            note=form.note.data or "",
            fulfilment=shipping,
        )
    except OrderError as error:
        return _failed(reference, error)
    return _after_change(order, f"Order {order.reference} is now {OrderStatus(order.status).label.lower()}.")


@bp.post("/orders/<reference>/fulfilment")
@requires(Permission.EDIT_FULFILMENT)
def order_fulfilment(reference: str):
    form = FulfilmentForm()
    if not form.validate():
        return _failed(reference, InvalidFulfilment("fulfilment", _first_error(form)), fulfilment_form=form)
    order = _load(reference, for_update=True)
    details = desk.FulfilmentDetails(
        carrier=(form.carrier.data or "").strip(),
        tracking_number=(form.tracking_number.data or "").strip(),
        tracking_url=(form.tracking_url.data or "").strip(),
        expected_delivery_date=form.expected_delivery_date.data,
    )
    try:
        desk.update_fulfilment(order, details, staff=current_user, expected_version=form.version.data)
    except OrderError as error:
        return _failed(reference, error, fulfilment_form=form)
    return _after_change(order, "Fulfilment details saved.")


@bp.post("/orders/<reference>/assign")
@requires(Permission.ASSIGN_ORDERS)
def order_assign(reference: str):
    form = AssignForm()
    form.assignee.choices = [("", "Nobody")] + [(str(s.id), s.name) for s in _staff_choices()]
    if not form.validate():
        return _failed(reference, InvalidFulfilment("assignee", "Choose someone from the list."))
    order = _load(reference, for_update=True)
    assignee = db.session.get(StaffUser, int(form.assignee.data)) if form.assignee.data else None
    try:
        desk.assign_order(order, assignee, staff=current_user, expected_version=form.version.data)
    except OrderError as error:
        return _failed(reference, error)
    return _after_change(order, f"Assigned to {assignee.name}." if assignee else "Unassigned.")


@bp.post("/orders/<reference>/notes")
@requires(Permission.ADD_NOTES)
def order_note(reference: str):
    form = NoteForm()
    if not form.validate():
        return _failed(reference, InvalidFulfilment("note", _first_error(form)), note_form=form)
    order = _load(reference)
    try:
        desk.add_note(order, form.note.data, staff=current_user)
    except OrderError as error:
        return _failed(reference, error, note_form=form)
    return _after_change(order, "Note added.")


@bp.post("/orders/<reference>/payments")
@requires(Permission.RECORD_PAYMENTS)
def order_payment(reference: str):
    form = PaymentForm()
    order = _load(reference, for_update=True)
    if not form.validate():
        return _failed(reference, InvalidFulfilment("payment", _first_error(form)), payment_form=form)
    try:
        amount = to_minor(form.amount.data.strip(), order.currency)
        desk.record_payment(
            order,
            method=form.method.data,
            amount_minor=amount,
            reference=form.reference.data or "",
            staff=current_user,
            expected_version=form.version.data,
        )
    except ValueError:
        return _failed(
            reference,
            InvalidFulfilment("amount", "Enter the amount as a number, e.g. 450 or 450.50."),
            payment_form=form,
        )
    except OrderError as error:
        return _failed(reference, error, payment_form=form)
    return _after_change(order, "Payment recorded.")


@bp.post("/orders/<reference>/refunds")
@requires(Permission.REFUND_PAYMENTS)
def order_refund(reference: str):
    form = RefundForm()
    order = _load(reference, for_update=True)
    if not form.validate():
        return _failed(reference, InvalidFulfilment("refund", _first_error(form)), refund_form=form)
    try:
        amount = to_minor(form.amount.data.strip(), order.currency)
        desk.refund_payment(
            order, amount_minor=amount, reason=form.reason.data, staff=current_user, expected_version=form.version.data
        )
    except ValueError:
        return _failed(
            reference,
            InvalidFulfilment("amount", "Enter the amount as a number, e.g. 450 or 450.50."),
            refund_form=form,
        )
    except OrderError as error:
        return _failed(reference, error, refund_form=form)
    return _after_change(order, "Refund recorded.")


def _first_error(form) -> str:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        return f"{label}: {errors[0]}"
    return "Please check the form."
