"""Admin: returns after delivery — the list (by status), the customer's photos, and each staff step on a return.

The steps are posted from the order page's Returns card and answer with the order panel (the whole page without
HTMX), as every other order action does; the rules are in checkout/orders/returns.py.
"""

from flask import abort, request
from flask_login import current_user

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from admin.chat_media import media_file_response
from admin.order_forms import ApproveReturnForm, RefundForm, RejectReturnForm, ReturnStepForm
from admin.orders import answer_change, answer_refusal, chosen_payment_id, first_error, load_order, typed_amount
from checkout.extensions import db
from checkout.models.returns import RETURN_STATUSES, ReturnPhoto
from checkout.models.store import get_store_settings
from checkout.money import InvalidAmount, format_money
from checkout.orders import returns
from checkout.orders.errors import InvalidFulfilment, OrderError, ReturnNotAllowed
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_page_or_block


@bp.get("/returns")
@requires(Permission.VIEW_ORDERS)
def returns_list():
    status = request.args.get("status", "")
    status = status if status in RETURN_STATUSES else ""
    return render_page_or_block(
        "admin/returns/list.html",
        "returns",
        requests=returns.find_returns(status or None),
        status=status,
        counts=returns.count_by_status(),
        statuses=RETURN_STATUSES,
        status_labels=returns.STATUS_LABELS,
        reason_labels=returns.REASON_LABELS,
    )


@bp.get("/returns/photos/<int:photo_id>")
@requires(Permission.VIEW_ORDERS)
def return_photo(photo_id: int):
    """A photo the customer sent for a return: staff only, served as customers' media always is."""
    photo = db.session.get(ReturnPhoto, photo_id) or abort(404)
    return media_file_response(photo.media_file)


@bp.post("/orders/<reference>/returns/<int:return_id>/approve")
@requires(Permission.CHANGE_ORDER_STATUS)
def return_approve(reference: str, return_id: int):
    order, form = load_order(reference), ApproveReturnForm()
    if not form.validate():
        return answer_refusal(order, ReturnNotAllowed(first_error(form)))
    try:
        returns.approve(order, return_id, instructions=form.instructions.data or "", staff=current_user)
    except OrderError as error:
        return answer_refusal(order, error)
    return answer_change(order, "Return approved: the customer is told how to send it back.")


@bp.post("/orders/<reference>/returns/<int:return_id>/reject")
@requires(Permission.CHANGE_ORDER_STATUS)
def return_reject(reference: str, return_id: int):
    order, form = load_order(reference), RejectReturnForm()
    if not form.validate():
        return answer_refusal(order, ReturnNotAllowed(first_error(form)), reject_return_form=form)
    try:
        returns.reject(order, return_id, reason=form.reason.data, staff=current_user)
    except OrderError as error:
        return answer_refusal(order, error, reject_return_form=form)
    return answer_change(order, "Return rejected: the customer is told why.")


@bp.post("/orders/<reference>/returns/<int:return_id>/received")
@requires(Permission.CHANGE_ORDER_STATUS)
def return_received(reference: str, return_id: int):
    order, form = load_order(reference), ReturnStepForm()
    if not form.validate():
        return answer_refusal(order, ReturnNotAllowed(first_error(form)))
    try:
        returns.mark_received(order, return_id, staff=current_user)
    except OrderError as error:
        return answer_refusal(order, error)
    return answer_change(order, "Return received: the items are back in stock. Refund it below.")


@bp.post("/orders/<reference>/returns/<int:return_id>/refund")
@requires(Permission.APPROVE_REFUNDS)
def return_refund(reference: str, return_id: int):
    """The refund of a received return, through the one refund path; the customer gets the refund message."""
    order, form = load_order(reference), RefundForm()
    if not form.validate():
        return answer_refusal(order, InvalidFulfilment("refund", first_error(form)))
    try:
        done = returns.refund_return(
            order,
            return_id,
            amount_minor=typed_amount(form.amount.data, order.currency),
            reason=form.reason.data,
            staff=current_user,
            expected_version=form.version.data,
            payment_id=chosen_payment_id(form.payment.data),
        )
    except InvalidAmount as error:
        return answer_refusal(order, InvalidFulfilment("amount", error.message))
    except OrderError as error:
        return answer_refusal(order, error)
    amount = format_money(done.amount_minor, order.currency, get_store_settings().locale)
    return answer_change(order, f"Return refunded: {amount}. The customer is told in WhatsApp.")
