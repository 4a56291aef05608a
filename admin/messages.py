"""Admin: the customer's WhatsApp conversation on an order, messages from staff, and the outbox.

Views parse the request, call checkout.staff.conversation and render. HTMX requests get only the card
or the outbox list they swap; the same URLs work as plain pages and form posts without JavaScript.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from admin.conversation_words import window_sentence
from admin.message_forms import StaffMessageForm
from checkout.orders import queries
from checkout.staff import conversation
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_page_or_block, wants_fragment
from checkout.web.integer_input import parse_id
from checkout.whatsapp import account_health

CONVERSATION_PAGE = "admin/messages/conversation.html"
OUTBOX_PAGE = "admin/messages/outbox.html"


def _blank_form() -> StaffMessageForm:
    return StaffMessageForm(formdata=None)


@bp.context_processor
def conversation_helpers():
    """Lets the order page include the conversation card without the order views knowing about it."""
    return {
        "order_conversation": conversation.conversation_for,
        "new_staff_message_form": _blank_form,
        "window_sentence": window_sentence,
    }


@bp.app_context_processor
def sending_pause_banner():
    """The admin layout asks once per full page whether WhatsApp sending is paused (one small query; none for
    HTMX fragments, which leave the layout out)."""
    return {"sending_pause": account_health.pause_notice}


def _load(reference: str):
    order = queries.get_order_by_reference(reference)
    if order is None:
        abort(404)
    return order


def _render_conversation(order, status: int = 200, *, form=None, error=None, success=None):
    context = dict(
        order=order,
        conversation=conversation.conversation_for(order),
        message_form=form or _blank_form(),
        message_error=error,
        message_success=success,
    )
    return render_page_or_block(CONVERSATION_PAGE, "card", **context), status


@bp.get("/orders/<reference>/messages")
@requires(Permission.VIEW_ORDERS)
def order_conversation(reference: str):
    return _render_conversation(_load(reference))


@bp.post("/orders/<reference>/messages")
@requires(Permission.ADD_NOTES)
def order_message_send(reference: str):
    order = _load(reference)
    form = StaffMessageForm()
    if not form.validate():
        return _render_conversation(order, 422, form=form, error=_first_error(form))
    try:
        conversation.send_staff_message(
            order,
            form.text.data,
            staff=current_user,
            request_key=form.request_key(),
            as_template="as_template" in request.form,
        )
    except conversation.StaffMessageError as refusal:
        return _render_conversation(order, 422, form=form, error=str(refusal))
    done = "Message queued: it goes out on WhatsApp in a moment."
    if wants_fragment():
        return _render_conversation(order, success=done)
    flash(done, "success")
    return redirect(url_for("admin.order_detail", reference=order.reference, _anchor="conversation"), 303)


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return "Please check the message."


def _outbox_status() -> str:
    status = request.values.get("status", "")
    return status if status in conversation.OUTBOX_STATUSES else conversation.OUTBOX_STATUSES[0]


def _older_than() -> int | None:
    return parse_id(request.args.get("before"))


def _render_outbox(status: str, older_than: int | None = None, code: int = 200, *, error=None, success=None):
    context = dict(
        page=conversation.outbox_page(status, older_than),
        counts=conversation.outbox_counts(),
        statuses=conversation.OUTBOX_STATUSES,
        older_than=older_than,
        error=error,
        success=success,
    )
    return render_page_or_block(OUTBOX_PAGE, "outbox", **context), code


@bp.get("/outbox")
@requires(Permission.VIEW_ORDERS)
def outbox():
    return _render_outbox(_outbox_status(), _older_than())


@bp.post("/outbox/<int:item_id>/retry")
@requires(Permission.CHANGE_ORDER_STATUS)
def outbox_retry(item_id: int):
    status = _outbox_status()
    try:
        item = conversation.retry_failed_item(item_id)
    except conversation.NotRetryable as refusal:
        return _render_outbox(status, code=409, error=f"Item {item_id}: {refusal}")
    if item is None:
        abort(404)
    done = f"Item {item_id} is queued again and goes out in a moment."
    if wants_fragment():
        return _render_outbox(status, success=done)
    flash(done, "success")
    return redirect(url_for("admin.outbox", status=status), 303)
