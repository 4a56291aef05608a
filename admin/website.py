"""Admin: the website plugin (owner only) — Store API keys, the sites and numbers the widget may use,
its working hours, and the embed snippet with a live preview."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.api import keys
from checkout.catalog.queries import list_active_products
from checkout.models.store import get_store_settings
from checkout.shop.website_plugin import (
    DAY_NAMES,
    GREETING_MAX,
    KEY_KINDS,
    ROTATIONS,
    SNIPPET_MESSAGE_MAX,
    SNIPPET_MODES,
    ApiKeyNotFound,
    InvalidWebsiteSettings,
    WebsiteSettingsChange,
    add_to_cart_example,
    admin_preview_key,
    check_website_change,
    editable_values,
    embed_snippet,
    find_api_key,
    find_widget_key,
    issue_api_key,
    revoke_api_key,
    update_website_settings,
)
from checkout.shop.working_hours import DAYS
from checkout.staff.permissions import Permission
from checkout.web.fragments import wants_fragment
from checkout.web.urls import external_url


class WebsiteSettingsForm(FlaskForm):
    """Parsing only: the rules live in checkout/shop/website_plugin.py."""

    allowed_origins = TextAreaField(
        "Sites allowed to use the widget",
        description="One per line: the address of each site that loads the widget, without a path, "
        "e.g. https://myshop.example or http://localhost:8000.",
    )
    widget_numbers = TextAreaField(
        "Chat button numbers (optional)",
        description="One WhatsApp number per line, typed any way. Empty: the shop's own number.",
    )
    widget_rotation = RadioField(
        "With several numbers",
        choices=[SelectChoice(value, label) for value, label in ROTATIONS.items()],
        validate_choice=False,  # checked (with a clearer message) in checkout/shop/website_plugin.py
    )
    widget_greeting = TextAreaField(
        "Greeting bubble (optional)", description=f"A short line shown beside the chat button. At most {GREETING_MAX}."
    )
    timezone = StringField(
        "Time zone of these hours", description="An IANA name, like Asia/Kolkata, Africa/Nairobi or Europe/London."
    )


for _day in DAYS:
    setattr(WebsiteSettingsForm, f"{_day}_opens", StringField(f"{DAY_NAMES[_day]} opens", render_kw={"type": "time"}))
    setattr(WebsiteSettingsForm, f"{_day}_closes", StringField(f"{DAY_NAMES[_day]} closes", render_kw={"type": "time"}))


class NewKeyForm(FlaskForm):
    name = StringField(
        "Key name", description="Where it is used, e.g. “Main website” or “Shop backend”.", default="Main website"
    )
    kind = RadioField(
        "Kind of key", choices=[SelectChoice(value, label) for value, label in KEY_KINDS.items()], default="widget"
    )


class RevokeKeyForm(FlaskForm):
    """Only the CSRF token: the confirmation page's button."""


class SnippetForm(FlaskForm):
    """The embed snippet's options, read from the query string (nothing is saved)."""

    class Meta:
        csrf = False

    mode = RadioField(
        "What the widget shows",
        choices=[SelectChoice(value, label) for value, label in SNIPPET_MODES.items()],
        default="cart",
    )
    message = StringField(
        "Chat message (optional)",
        description=f"Prefilled when a visitor taps the chat button. {{title}} and {{url}} become the page's "
        f"title and address. At most {SNIPPET_MESSAGE_MAX} characters.",
    )


def _change_from(form: WebsiteSettingsForm) -> WebsiteSettingsChange:
    return WebsiteSettingsChange(
        allowed_origins=form.allowed_origins.data or "",
        widget_numbers=form.widget_numbers.data or "",
        widget_rotation=form.widget_rotation.data or "",
        widget_greeting=form.widget_greeting.data or "",
        timezone=form.timezone.data or "",
        hours={day: (form[f"{day}_opens"].data or "", form[f"{day}_closes"].data or "") for day in DAYS},
    )


def _show_errors(form: WebsiteSettingsForm, refused: InvalidWebsiteSettings) -> None:
    """A weekday's reason goes under its opening time; the rest under their own fields."""
    for name, message in refused.errors.items():
        field = form[f"{name}_opens"] if name in DAYS else form[name]
        if not field.errors:
            field.errors = [message]


def _snippet_options() -> tuple[str, str]:
    form = SnippetForm(formdata=request.args)
    mode = form.mode.data if form.mode.data in SNIPPET_MODES else "cart"
    return mode, (form.message.data or "")[:SNIPPET_MESSAGE_MAX]


def _snippet_context(widget_key: str | None = None) -> dict:
    mode, message = _snippet_options()
    preview_args = {"mode": mode, "message": message or None, "key": widget_key}
    return {
        "snippet_form": SnippetForm(formdata=request.args if request.args else None, data={"mode": mode}),
        "snippet": embed_snippet(
            external_url("static", filename="widget/chatout.js"),
            widget_key,
            mode,
            message,
            # The chat button keeps working from this number when the shop's server can't be reached.
            phone=get_store_settings().whatsapp_digits,
        ),
        "add_example": add_to_cart_example(),
        "snippet_mode": mode,
        "preview_url": url_for("admin.website_preview", **{k: v for k, v in preview_args.items() if v}),
        "widget_key": widget_key,
    }


def _render(form: WebsiteSettingsForm, status: int = 200, key_form: NewKeyForm | None = None):
    context = _snippet_context()
    return render_template(
        "admin/website/index.html",
        form=form,
        key_form=key_form or NewKeyForm(formdata=None),
        api_keys=keys.list_keys(),
        days=DAYS,
        day_names=DAY_NAMES,
        **context,
    ), status


@bp.route("/website", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def website():
    if request.method == "GET":
        if wants_fragment():  # the snippet's options changed; a key made a page ago travels with them
            widget_key = find_widget_key(request.args.get("key"))
            return render_template("admin/website/_snippet.html", **_snippet_context(widget_key))
        return _render(WebsiteSettingsForm(data=editable_values(get_store_settings())))

    form = WebsiteSettingsForm()
    form_ok = form.validate()
    change = _change_from(form)
    try:
        if form_ok:
            update_website_settings(change)
            flash("Website plugin settings saved.", "success")
            return redirect(url_for("admin.website"), 303)
        check_website_change(change)  # the parsing failed somewhere: list the other problems too
    except InvalidWebsiteSettings as refused:
        _show_errors(form, refused)
    return _render(form, status=422)


@bp.post("/website/keys")
@requires(Permission.EDIT_SETTINGS)
def website_key_create():
    key_form = NewKeyForm()
    if not key_form.validate():
        return _render(WebsiteSettingsForm(data=editable_values(get_store_settings())), 422, key_form=key_form)
    key, plaintext = issue_api_key(key_form.name.data or "", key_form.kind.data, current_user.email)
    # The key is shown on this response only: it is never stored in plaintext or put in the session.
    page = render_template(
        "admin/website/key_created.html",
        key=key,
        plaintext=plaintext,
        **(_snippet_context(plaintext) if key.kind == "widget" else {}),
    )
    return page, 201, {"Cache-Control": "no-store"}


@bp.route("/website/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def website_key_revoke(key_id: int):
    """GET asks for confirmation; POST revokes."""
    try:
        key = find_api_key(key_id)
    except ApiKeyNotFound:
        abort(404)
    form = RevokeKeyForm()
    if request.method == "GET" or not form.validate():
        return render_template("admin/website/revoke.html", key=key, form=form)
    revoke_api_key(key.id)
    flash(f"The key {key.prefix}… no longer works.", "success")
    return redirect(url_for("admin.website", _anchor="keys-heading"), 303)


def _preview_key() -> str:
    """A widget key for previews: the one given, else the shop's own preview key."""
    given = request.args.get("key", "")
    if given.startswith(keys.PREFIXES["widget"]):
        return given
    return admin_preview_key(current_user.email)


@bp.get("/website/preview")
@requires(Permission.EDIT_SETTINGS)
def website_preview():
    """A small page that loads the real widget script, shown in the admin page's iframe."""
    mode, message = _snippet_options()
    products = list_active_products()[:3]
    return render_template(
        "admin/website/preview.html",
        script_url=url_for("static", filename="widget/chatout.js"),
        widget_key=_preview_key(),
        mode=mode,
        message=message,
        products=products,
    )
