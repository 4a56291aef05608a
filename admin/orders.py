"""Admin: the order desk — list with tabs and filters, order detail, and every staff action on an order.

Views parse the request, call checkout.orders.desk (which locks what it changes), and render. HTMX requests
get only the part of the page they swap; the same URLs work as plain pages and form posts without JavaScript.
"""

import json
from dataclasses import replace
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin.access import can, requires
from admin.blueprint import admin_blueprint as bp
from admin.order_forms import (
    AddressChangeForm,
    ApproveReturnForm,
    AssignForm,
    BulkStatusForm,
    FulfilmentForm,
    NoteForm,
    PaymentForm,
    RefundForm,
    RejectReturnForm,
    ReturnStepForm,
    StatusForm,
)
from checkout import service_sessions
from checkout.extensions import db
from checkout.models import StaffUser
from checkout.models.store import get_store_settings
from checkout.money import InvalidAmount, format_amount_for_input, format_money, parse_amount
from checkout.orders import delivery, delivery_exceptions, desk, export, queries, returns
from checkout.orders.error_responses import http_status
from checkout.orders.errors import InvalidFulfilment, OrderError, PaymentRejected
from checkout.orders.lifecycle import OrderStatus, allowed_transitions
from checkout.orders.payment_states import PAYMENT_STATE_LABELS
from checkout.payments import refunds
from checkout.payments.display import staff_payment_request
from checkout.payments.providers import REQUEST_ON_DEMAND
from checkout.payments.requests import PaymentNotRequested, request_payment
from checkout.receipts.pdf import receipt_download
from checkout.receipts.receipt import receipt_payment
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_page_or_block, wants_fragment
from checkout.web.integer_input import parse_id, parse_whole_number
from checkout.whatsapp import consent


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from_request() -> queries.OrderFilters:
    args = request.args
    status = args.get("status", "")
    source = args.get("source", "")
    payment = args.get("payment", "")
    return queries.OrderFilters(
        status=status if status in OrderStatus.__members__.values() else None,
        search=args.get("q", "")[:100],
        date_from=_parse_date(args.get("from")),
        date_to=_parse_date(args.get("to")),
        assigned_to=args.get("assigned", "")[:12],
        source=source if source in queries.SOURCES else None,
        payment=payment if payment in PAYMENT_STATE_LABELS else None,
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
        payment_states=PAYMENT_STATE_LABELS,
        staff=_staff_choices(),
        newest_id=queries.newest_order_id(),
        bulk_form=BulkStatusForm(),
        query_args={k: v for k, v in request.args.items() if k not in ("after", "status") and v},
    )
    return render_page_or_block("admin/orders.html", "desk", **context)


@bp.get("/orders/new")
@requires(Permission.VIEW_ORDERS)
def new_orders_notice():
    """Polled by the order list: tells staff (and the browser) when orders arrived since the page loaded."""
    since = parse_whole_number(request.args.get("since"))
    count = queries.count_orders_after(since) if since is not None else 0
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


def load_order(reference: str):
    order = queries.get_order_by_reference(reference)
    if order is None:
        abort(404)
    return order


def _fulfilment_form(order) -> FulfilmentForm:
    """The fulfilment form filled from the order, its window in the shop's time zone."""
    form = FulfilmentForm(obj=order, formdata=None)
    day, start, end = delivery.window_in_shop(order, get_store_settings().zone_name)
    form.delivery_day.data, form.window_from.data, form.window_until.data = day, start, end
    return form


def _detail_context(order, **forms):
    fulfilment = forms.pop("fulfilment_form", None) or _fulfilment_form(order)
    assign = forms.pop("assign_form", None) or AssignForm(formdata=None)
    assign.assignee.choices = [("", "Nobody")] + [(str(s.id), s.name) for s in _staff_choices()]
    assign.assignee.data = str(order.assigned_to_id or "")
    for form in (fulfilment, assign):
        form.version.data = order.version
    settings = get_store_settings()
    return dict(
        order=order,
        store_zone=settings.zone_name,
        delivery_window=delivery.window_text(order, settings.zone_name, settings.locale),
        delivery_agent=delivery.agent_text(order),
        transitions=allowed_transitions(order),
        fulfilment_form=fulfilment,
        assign_form=assign,
        note_form=forms.pop("note_form", None) or NoteForm(formdata=None),
        payment_form=forms.pop("payment_form", None) or PaymentForm(formdata=None, amount=_balance_due(order)),
        refund_form=_refund_form(order, forms.pop("refund_form", None)),
        error=forms.pop("error", None),
        error_code=forms.pop("error_code", None),
        success=forms.pop("success", None),
        consents=consent.consent_history(order.customer_phone),
        payment_request=staff_payment_request(order),
        service_session=service_sessions.session_for_order_page(order),
        returns=returns.returns_of(order),
        return_reasons=returns.REASON_LABELS,
        return_statuses=returns.STATUS_LABELS,
        default_approval_note=returns.DEFAULT_APPROVAL_NOTE,
        return_refund_amount=format_amount_for_input(
            returns.returned_items_minor(order), order.currency, settings.locale
        ),
        approve_return_form=ApproveReturnForm(formdata=None),
        reject_return_form=forms.pop("reject_return_form", None) or RejectReturnForm(formdata=None),
        return_step_form=ReturnStepForm(formdata=None),
        OrderStatus=OrderStatus,
    )


def _balance_due(order) -> str:
    """The payment form starts at what is still owed, written as staff write amounts in this shop."""
    return format_amount_for_input(order.balance_minor, order.currency, get_store_settings().locale)


def typed_amount(text: str, currency: str) -> int:
    return parse_amount(text, currency, get_store_settings().locale)


def _render_detail(order, status: int = 200, **forms):
    return render_page_or_block("admin/order_detail.html", "panel", **_detail_context(order, **forms)), status


def answer_change(order, message: str):
    if wants_fragment():
        return _render_detail(order, success=message)
    flash(message, "success")
    return redirect(url_for("admin.order_detail", reference=order.reference), 303)


def answer_refusal(order, error: OrderError, **forms):
    """Render the order as it is now, with the error; the status comes from the error's code (409 when stale).

    When the domain refused a change, its rollback expired the order, so what renders is read afresh.
    """
    return _render_detail(order, http_status(error), error=str(error), error_code=error.code, **forms)


@bp.get("/orders/<reference>")
@requires(Permission.VIEW_ORDERS)
def order_detail(reference: str):
    return _render_detail(load_order(reference))


@bp.get("/orders/<reference>/receipts/<int:payment_id>.pdf")
@requires(Permission.VIEW_ORDERS)
def order_receipt(reference: str, payment_id: int):
    """The receipt the customer was sent for one payment, for staff to print or forward."""
    order = load_order(reference)
    payment = receipt_payment(order, payment_id) or abort(404)
    body, headers = receipt_download(order, payment, get_store_settings())
    return body, 200, headers


@bp.post("/orders/<reference>/status")
@requires(Permission.CHANGE_ORDER_STATUS)
def order_status(reference: str):
    order = load_order(reference)
    form = StatusForm()
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("status", first_error(form)))
    if form.refund_paid and not can(Permission.APPROVE_REFUNDS):
        return answer_refusal(order, PaymentRejected("Only staff who may refund can refund a cancelled order's money."))
    shipping = None
    if form.carrier.data or form.tracking_number.data or form.tracking_url.data:
        shipping = replace(
            desk.FulfilmentDetails.of(order),
            carrier=(form.carrier.data or "").strip(),
            tracking_number=(form.tracking_number.data or "").strip(),
            tracking_url=(form.tracking_url.data or "").strip(),
        )
    try:
        desk.change_status(
            order,
            form.target.data,
            staff=current_user,
            expected_version=form.version.data,
            note=form.note.data or "",
            fulfilment=shipping,
            refund_paid=form.refund_paid,
            give_back=refunds.give_back,
        )
    except OrderError as error:
        return answer_refusal(order, error)
    return answer_change(order, f"Order {order.reference} is now {OrderStatus(order.status).label.lower()}.")


@bp.post("/orders/<reference>/fulfilment")
@requires(Permission.EDIT_FULFILMENT)
def order_fulfilment(reference: str):
    order = load_order(reference)
    form = FulfilmentForm()
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("fulfilment", first_error(form)), fulfilment_form=form)
    try:
        start, end = delivery.window_from_local(
            form.delivery_day.data, form.window_from.data, form.window_until.data, get_store_settings().zone_name
        )
        details = desk.FulfilmentDetails(
            carrier=(form.carrier.data or "").strip(),
            tracking_number=(form.tracking_number.data or "").strip(),
            tracking_url=(form.tracking_url.data or "").strip(),
            expected_delivery_date=form.expected_delivery_date.data,
            delivery_window_start=start,
            delivery_window_end=end,
            delivery_agent_name=form.delivery_agent_name.data or "",
            delivery_agent_phone=form.delivery_agent_phone.data or "",
        )
        desk.update_fulfilment(order, details, staff=current_user, expected_version=form.version.data)
    except OrderError as error:
        _note_under_its_field(form, error)
        return answer_refusal(order, error, fulfilment_form=form)
    return answer_change(order, "Fulfilment details saved.")


@bp.post("/orders/<reference>/address-change")
@requires(Permission.EDIT_FULFILMENT)
def order_address_change(reference: str):
    """Approve or reject the new address the customer typed after a failed delivery; the customer is told."""
    order = load_order(reference)
    form = AddressChangeForm()
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("address_change", first_error(form)))
    try:
        with desk.order_change(order, form.version.data):
            if form.decision.data == "approve":
                delivery_exceptions.approve_address_change(
                    order, actor=current_user.name, staff_user_id=current_user.id
                )
            else:
                delivery_exceptions.reject_address_change(
                    order, actor=current_user.name, reason=form.reason.data or "", staff_user_id=current_user.id
                )
    except OrderError as error:
        return answer_refusal(order, error)
    done = "approved: delivery is rescheduled" if form.decision.data == "approve" else "rejected: the customer is told"
    return answer_change(order, f"New address {done}.")


def _note_under_its_field(form: FulfilmentForm, error: OrderError) -> None:
    """A refused fulfilment value's reason also goes under the field it is about."""
    name = {"delivery_window": "window_until"}.get(getattr(error, "field", ""), getattr(error, "field", ""))
    if name in form and name != "version":
        form[name].errors = [*form[name].errors, str(error)]


@bp.post("/orders/<reference>/assign")
@requires(Permission.ASSIGN_ORDERS)
def order_assign(reference: str):
    order = load_order(reference)
    form = AssignForm()
    form.assignee.choices = [("", "Nobody")] + [(str(s.id), s.name) for s in _staff_choices()]
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("assignee", "Choose someone from the list."))
    assignee = db.session.get(StaffUser, int(form.assignee.data)) if form.assignee.data else None
    try:
        desk.assign_order(order, assignee, staff=current_user, expected_version=form.version.data)
    except OrderError as error:
        return answer_refusal(order, error)
    return answer_change(order, f"Assigned to {assignee.name}." if assignee else "Unassigned.")


@bp.post("/orders/<reference>/notes")
@requires(Permission.ADD_NOTES)
def order_note(reference: str):
    order = load_order(reference)
    form = NoteForm()
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("note", first_error(form)), note_form=form)
    try:
        desk.add_note(order, form.note.data, staff=current_user)
    except OrderError as error:
        return answer_refusal(order, error, note_form=form)
    return answer_change(order, "Note added.")


@bp.post("/orders/<reference>/consent/withdraw")
@requires(Permission.ADD_NOTES)
def order_consent_withdraw(reference: str):
    """The customer asked staff (by phone, in the shop) to stop reminders: their consent ends now."""
    order = load_order(reference)
    withdrawn = consent.withdraw_by_staff(order.customer_phone, staff_name=current_user.name)
    message = (
        "Consent withdrawn: no more reminders to this number." if withdrawn else "There was no consent to withdraw."
    )
    return answer_change(order, message)


@bp.post("/orders/<reference>/payments")
@requires(Permission.RECORD_PAYMENTS)
def order_payment(reference: str):
    form = PaymentForm()
    order = load_order(reference)
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("payment", first_error(form)), payment_form=form)
    try:
        amount = typed_amount(form.amount.data, order.currency)
        desk.record_payment(
            order,
            method=form.method.data,
            amount_minor=amount,
            reference=form.reference.data or "",
            staff=current_user,
            expected_version=form.version.data,
        )
    except InvalidAmount as error:
        return answer_refusal(order, InvalidFulfilment("amount", error.message), payment_form=form)
    except OrderError as error:
        return answer_refusal(order, error, payment_form=form)
    return answer_change(order, "Payment recorded.")


@bp.post("/orders/<reference>/payment-request")
@requires(Permission.RECORD_PAYMENTS)
def order_payment_request(reference: str):
    """Ask the customer to pay the balance now, through the shop's provider, in WhatsApp and on the status page."""
    order = load_order(reference)
    try:
        payment_request = request_payment(order, REQUEST_ON_DEMAND)
    except PaymentNotRequested as refusal:
        return _render_detail(order, 422, error=str(refusal))
    if payment_request.status == "failed":
        return _render_detail(order, 502, error=f"The payment provider failed: {payment_request.last_error}")
    return answer_change(order, "Payment requested: the customer has the link in WhatsApp and on the order page.")


@bp.post("/orders/<reference>/refunds")
@requires(Permission.APPROVE_REFUNDS)
def order_refund(reference: str):
    """Give money back: through the payment's provider when it refunds (Stripe), else recorded by hand."""
    form = RefundForm()
    order = load_order(reference)
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("refund", first_error(form)), refund_form=form)
    try:
        amount = typed_amount(form.amount.data, order.currency)
        done = refunds.refund_payment(
            order,
            payment_id=chosen_payment_id(form.payment.data),
            amount_minor=amount,
            reason=form.reason.data,
            staff=current_user,
            expected_version=form.version.data,
        )
    except InvalidAmount as error:
        return answer_refusal(order, InvalidFulfilment("amount", error.message), refund_form=form)
    except OrderError as error:
        return answer_refusal(order, error, refund_form=form)
    amount_text = format_money(done.amount_minor, order.currency, get_store_settings().locale)
    how = f" (provider refund {', '.join(done.provider_refund_ids)})" if done.provider_refund_ids else ""
    return answer_change(order, f"Refunded {amount_text}{how}. The customer is told in WhatsApp.")


def chosen_payment_id(text: str | None) -> int | None:
    """None: the newest refundable payment; 0 (no payment has it) for anything that is not an id."""
    if not text:
        return None
    return parse_id(text) or 0


def _refund_form(order, form: RefundForm | None) -> RefundForm:
    form = form or RefundForm(formdata=None)
    locale = get_store_settings().locale
    choices = [(str(c.payment.id), c.label(order.currency, locale)) for c in refunds.refund_choices(order)]
    if len(choices) > 1:  # the whole order at once: from the newest payments first
        left = format_money(order.amount_paid_minor, order.currency, locale)
        choices.insert(0, ("", f"Any payment, newest first — up to {left}"))
    form.payment.choices = choices
    return form


def first_error(form) -> str:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        return f"{label}: {errors[0]}"
    return "Please check the form."
