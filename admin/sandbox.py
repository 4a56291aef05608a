"""The WhatsApp sandbox simulator for staff: `/sandbox` (chats) and `/sandbox/chat/<digits>` (a phone).

Staff screens, so they live with the admin; the URLs stay outside /admin because they stand for the
customer's phone. Every route needs ACT_AS_CUSTOMER: opening a chat reports the shop's messages as
read, and a tap or a text is the customer's own answer (Confirm, Cancel), so a viewer may not.
Views translate requests into checkout.whatsapp.sandbox calls and render. HTMX requests get only
the part of the page they swap (and 204 from a poll when nothing changed); the same URLs work as
plain pages and form posts without JavaScript. Not found unless WHATSAPP_PROVIDER is "sandbox".
"""

from flask import Blueprint, abort, redirect, request, send_file, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from admin import sandbox_chats
from admin.access import requires
from checkout.models.store import get_store_settings
from checkout.phones import InvalidPhone, normalise_phone, whatsapp_digits
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_page_or_block, wants_fragment
from checkout.web.integer_input import parse_id, parse_whole_number
from checkout.whatsapp import media, sandbox

sandbox_blueprint = Blueprint("sandbox", __name__, url_prefix="/sandbox")

TEXT_LIMIT = 4096  # the longest text message WhatsApp accepts
WEBHOOK_FAILED = 502  # our own endpoint refused the simulated webhook: a configuration problem, shown as such


class MessageForm(FlaskForm):
    text = TextAreaField("Message", validators=[DataRequired("Type a message first."), Length(max=TEXT_LIMIT)])


class CartForm(FlaskForm):
    """A cart from the shop's WhatsApp catalog; the quantities come as `quantity-<variant id>` fields."""

    note = StringField("Note with the cart", validators=[Optional(), Length(max=sandbox.CAPTION_MAX)])


class LocationForm(FlaskForm):
    latitude = DecimalField(
        "Latitude", places=None, validators=[InputRequired("Enter the latitude."), NumberRange(-90, 90)]
    )
    longitude = DecimalField(
        "Longitude", places=None, validators=[InputRequired("Enter the longitude."), NumberRange(-180, 180)]
    )
    place_name = StringField("Place name", validators=[Optional(), Length(max=sandbox.LOCATION_TEXT_MAX)])
    address = StringField("Address", validators=[Optional(), Length(max=sandbox.LOCATION_TEXT_MAX)])


class PictureForm(FlaskForm):
    picture = FileField("Picture", validators=[FileRequired("Choose a picture to send.")])
    caption = StringField("Caption", validators=[Optional(), Length(max=sandbox.CAPTION_MAX)])


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
    chat_list = sandbox_chats.list_chats()
    version = sandbox_chats.chats_version(chat_list)
    if wants_fragment() and request.args.get("since") == version:
        return "", 204  # the poll: nothing changed
    page = render_page_or_block(
        "sandbox/chats.html",
        "chat_list",
        page_only=lambda: {"form": form or NewChatForm(formdata=None)},
        chats=chat_list,
        version=version,
    )
    return page, status


@sandbox_blueprint.get("")
@requires(Permission.ACT_AS_CUSTOMER)
def chats():
    sandbox.open_chat_list()
    return _render_chats()


@sandbox_blueprint.post("/new")
@requires(Permission.ACT_AS_CUSTOMER)
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
    bubbles = sandbox_chats.conversation(phone)
    version = sandbox_chats.conversation_version(bubbles)
    context = dict(
        phone=phone,
        digits=whatsapp_digits(phone),
        name=sandbox.customer_names([phone])[phone],
        bubbles=bubbles,
        version=version,
        error=error,
    )
    if wants_fragment() and request.method == "GET" and request.args.get("since") == version:
        return "", 204  # the poll: nothing changed
    page = render_page_or_block(
        "sandbox/chat.html",
        "conversation",
        page_only=lambda: {
            "form": form or MessageForm(formdata=None),
            "cart_form": CartForm(formdata=None),
            "catalog": sandbox.catalog_items(),
            "location_form": LocationForm(formdata=None),
            "picture_form": PictureForm(formdata=None),
        },
        **context,
    )
    return page, status


@sandbox_blueprint.get("/chat/<digits>")
@requires(Permission.ACT_AS_CUSTOMER)
def chat(digits: str):
    phone = _phone_or_404(digits)
    sandbox.open_chat(phone)
    return _render_chat(phone)


def _after_customer_acted(phone: str):
    if wants_fragment():
        return _render_chat(phone)
    return redirect(url_for("sandbox.chat", digits=whatsapp_digits(phone)), 303)


@sandbox_blueprint.post("/chat/<digits>/tap")
@requires(Permission.ACT_AS_CUSTOMER)
def tap(digits: str):
    phone = _phone_or_404(digits)
    message_id, option = parse_id(request.form.get("message")), parse_whole_number(request.form.get("option"))
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
@requires(Permission.ACT_AS_CUSTOMER)
def send(digits: str):
    phone = _phone_or_404(digits)
    form = MessageForm()
    if not form.validate():
        return _render_chat(phone, 422, error=" ".join(form.text.errors), form=form)
    return _as_the_customer(phone, lambda: sandbox.send_text(phone, form.text.data))


def _form_errors(form: FlaskForm) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)


def _as_the_customer(phone: str, act, refused: tuple[type[Exception], ...] = ()):
    """Do what the customer did (through the signed webhook); the chat again, or the reason it could not be done."""
    try:
        act()
    except refused as refusal:
        return _render_chat(phone, 422, error=str(refusal))
    except sandbox.WebhookRejected as rejected:
        return _render_chat(phone, WEBHOOK_FAILED, error=str(rejected))
    return _after_customer_acted(phone)


@sandbox_blueprint.post("/chat/<digits>/cart")
@requires(Permission.ACT_AS_CUSTOMER)
def send_cart(digits: str):
    """The customer sends a cart from the shop's catalog (an `order` message)."""
    phone = _phone_or_404(digits)
    form = CartForm()
    if not form.validate():
        return _render_chat(phone, 422, error=_form_errors(form))
    quantities = {}
    for item in sandbox.catalog_items():
        typed = (request.form.get(f"quantity-{item.variant_id}") or "").strip()
        quantity = parse_whole_number(typed, maximum=sandbox.MAX_CART_QUANTITY) if typed else 0
        if quantity is None:
            return _render_chat(phone, 422, error=f"Quantities go from 0 to {sandbox.MAX_CART_QUANTITY}.")
        quantities[item.sku] = quantity
    return _as_the_customer(
        phone, lambda: sandbox.send_cart(phone, quantities, form.note.data or ""), (sandbox.CartRefused,)
    )


@sandbox_blueprint.post("/chat/<digits>/location")
@requires(Permission.ACT_AS_CUSTOMER)
def send_location(digits: str):
    phone = _phone_or_404(digits)
    form = LocationForm()
    if not form.validate():
        return _render_chat(phone, 422, error=_form_errors(form))
    latitude, longitude = float(form.latitude.data), float(form.longitude.data)  # coordinates, not money
    place, address = form.place_name.data, form.address.data
    return _as_the_customer(
        phone, lambda: sandbox.send_location(phone, latitude, longitude, place, address), (sandbox.LocationRefused,)
    )


@sandbox_blueprint.post("/chat/<digits>/picture")
@requires(Permission.ACT_AS_CUSTOMER)
def send_picture(digits: str):
    phone = _phone_or_404(digits)
    form = PictureForm()
    if not form.validate():
        return _render_chat(phone, 422, error=_form_errors(form))
    upload = form.picture.data
    data, caption = upload.read(media.MAX_BYTES["image"] + 1), form.caption.data or ""
    return _as_the_customer(
        phone, lambda: sandbox.send_image(phone, data, upload.mimetype, caption), (media.UploadRefused,)
    )


@sandbox_blueprint.get("/sent/<int:message_id>/document")
@requires(Permission.ACT_AS_CUSTOMER)
def sent_document(message_id: int):
    """A document the shop sent by upload (a receipt), as the customer's phone would open it."""
    found = sandbox.sent_document(message_id)
    if found is None:
        abort(404)
    path, mime_type, filename = found
    response = send_file(path, mimetype=mime_type, as_attachment=True, download_name=filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
