"""The WhatsApp sandbox simulator for staff: `/sandbox` (chats) and `/sandbox/chat/<digits>` (a phone).

Views translate requests into checkout.whatsapp.sandbox calls and render. HTMX requests get only
the part of the page they swap (and 204 from a poll when nothing changed); the same URLs work as
plain pages and form posts without JavaScript. Not found unless WHATSAPP_PROVIDER is "sandbox".
"""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin.access import requires
from checkout.fragments import render_block, wants_fragment
from checkout.models.store import get_store_settings
from checkout.permissions import Permission
from checkout.phones import InvalidPhone, normalise_phone, whatsapp_digits
from checkout.whatsapp import sandbox

sandbox_blueprint = Blueprint("sandbox", __name__, url_prefix="/sandbox")

TEXT_LIMIT = 4096  # the longest text message WhatsApp accepts
WEBHOOK_FAILED = 502  # our own endpoint refused the simulated webhook: a configuration problem, shown as such


class MessageForm(FlaskForm):
    text = TextAreaField("Message", validators=[DataRequired("Type a message first."), Length(max=TEXT_LIMIT)])


class NewChatForm(FlaskForm):
    phone = StringField(
        "Customer's WhatsApp number",
        validators=[DataRequired("Enter the number the customer writes from."), Length(max=32)],
        description="As the customer would type it; local numbers use the shop's country.",
    )
    name = StringField("Customer's name", validators=[Optional(), Length(max=80)])
    text = TextAreaField(
        "First message",
        validators=[DataRequired("Type the customer's first message."), Length(max=TEXT_LIMIT)],
        description="Paste the order summary from the checkout's WhatsApp link to test the handshake.",
    )


@sandbox_blueprint.before_request
def only_with_the_sandbox_provider():
    if not sandbox.is_enabled():
        abort(404)


def _phone_or_404(digits: str) -> str:
    phone = sandbox.phone_from_digits(digits)
    if phone is None:
        abort(404)
    return phone


def _render_chats(form: NewChatForm | None = None, status: int = 200):
    chat_list = sandbox.list_chats()
    version = sandbox.chats_version(chat_list)
    if wants_fragment("chats"):
        if request.args.get("since") == version:
            return "", 204
        return render_block("sandbox/chats.html", "chat_list", chats=chat_list, version=version)
    form = form or NewChatForm(formdata=None)
    return render_template("sandbox/chats.html", chats=chat_list, version=version, form=form), status


@sandbox_blueprint.get("")
@requires(Permission.VIEW_ORDERS)
def chats():
    sandbox.open_chat_list()
    return _render_chats()


@sandbox_blueprint.post("/new")
@requires(Permission.VIEW_ORDERS)
def new_chat():
    """Start a chat as a customer: their number (typed any usual way) and first message."""
    form = NewChatForm()
    if not form.validate():
        return _render_chats(form, 422)
    try:
        phone = normalise_phone(form.phone.data, get_store_settings().default_region)
    except InvalidPhone as invalid:
        form.phone.errors = [str(invalid)]
        return _render_chats(form, 422)
    try:
        sandbox.send_text(phone, form.text.data, name=form.name.data or "")
    except sandbox.WebhookRejected as rejected:
        form.text.errors = [str(rejected)]
        return _render_chats(form, WEBHOOK_FAILED)
    return redirect(url_for("sandbox.chat", digits=whatsapp_digits(phone)), 303)


def _render_chat(phone: str, status: int = 200, error: str = "", form: MessageForm | None = None):
    bubbles = sandbox.conversation(phone)
    version = sandbox.conversation_version(bubbles)
    context = dict(
        phone=phone,
        digits=whatsapp_digits(phone),
        name=sandbox.customer_names([phone])[phone],
        bubbles=bubbles,
        version=version,
        error=error,
    )
    if wants_fragment("conversation"):
        if request.method == "GET" and request.args.get("since") == version:
            return "", 204
        return render_block("sandbox/chat.html", "conversation", **context), status
    return render_template("sandbox/chat.html", form=form or MessageForm(formdata=None), **context), status


@sandbox_blueprint.get("/chat/<digits>")
@requires(Permission.VIEW_ORDERS)
def chat(digits: str):
    phone = _phone_or_404(digits)
    sandbox.open_chat(phone)
    return _render_chat(phone)


def _after_customer_acted(phone: str):
    if wants_fragment("conversation"):
        return _render_chat(phone)
    return redirect(url_for("sandbox.chat", digits=whatsapp_digits(phone)), 303)


@sandbox_blueprint.post("/chat/<digits>/tap")
@requires(Permission.VIEW_ORDERS)
def tap(digits: str):
    phone = _phone_or_404(digits)
    message_id, option = request.form.get("message", type=int), request.form.get("option", type=int)
    if message_id is None or option is None:
        abort(400)
    try:
        sandbox.tap(phone, message_id, option)
    except sandbox.UnknownReply:
        abort(404)
    except sandbox.WebhookRejected as rejected:
        return _render_chat(phone, WEBHOOK_FAILED, error=str(rejected))
    return _after_customer_acted(phone)


@sandbox_blueprint.post("/chat/<digits>/send")
@requires(Permission.VIEW_ORDERS)
def send(digits: str):
    phone = _phone_or_404(digits)
    form = MessageForm()
    if not form.validate():
        return _render_chat(phone, 422, error=" ".join(form.text.errors), form=form)
    try:
        sandbox.send_text(phone, form.text.data)
    except sandbox.WebhookRejected as rejected:
        return _render_chat(phone, WEBHOOK_FAILED, error=str(rejected))
    return _after_customer_acted(phone)
