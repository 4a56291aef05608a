"""Admin: the ordering chat's texts in the shop's own words, one language at a time (owner only).

The view reads the posted texts of one language and calls checkout/whatsapp/chat_text_editing.py, where
every rule lives: a refusal shows each note under its text and saves nothing; an empty text is ours again.
"""

from flask import abort, flash, redirect, render_template, request, url_for

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.models.store import get_store_settings
from checkout.staff.permissions import Permission
from checkout.whatsapp.chat_order_texts import ENGLISH, LANGUAGES, text_when_empty
from checkout.whatsapp.chat_text_editing import (
    CHAT_TEXT_GROUPS,
    CHAT_TEXT_KEYS,
    CHAT_TEXT_LABELS,
    CHAT_TEXT_MAX,
    LABEL_LIMITS,
    REQUIRED_PLACEHOLDERS,
    InvalidChatTexts,
    placeholders_of,
    save_chat_texts,
)

TEMPLATE = "admin/settings/chat_texts.html"
FIELD_PREFIX = "text-"


def _language(raw: str | None) -> str:
    if raw not in LANGUAGES:
        abort(400, description="Choose one of the languages the chat speaks.")
    return raw


def _posted_texts() -> dict[str, str]:
    """The texts posted, by key; the one whose "Reset to default" was pressed is posted empty."""
    posted = {key: request.form[FIELD_PREFIX + key] for key in CHAT_TEXT_KEYS if FIELD_PREFIX + key in request.form}
    if request.form.get("reset") in CHAT_TEXT_KEYS:
        posted[request.form["reset"]] = ""
    return posted


def _render(language: str, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200):
    overrides = get_store_settings().chat_texts or {}
    return render_template(
        TEMPLATE,
        language=language,
        languages=LANGUAGES,
        groups=CHAT_TEXT_GROUPS,
        labels=CHAT_TEXT_LABELS,
        values=values,
        errors=errors or {},
        stored=overrides.get(language) or {},
        when_empty={key: text_when_empty(language, key, overrides) for key in CHAT_TEXT_KEYS},
        placeholders={key: placeholders_of(key) for key in CHAT_TEXT_KEYS},
        required=REQUIRED_PLACEHOLDERS,
        label_limits=LABEL_LIMITS,
        text_max=CHAT_TEXT_MAX,
        field_prefix=FIELD_PREFIX,
        english=ENGLISH,
    ), status


@bp.route("/settings/chat-texts", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings_chat_texts():
    """Every text of the ordering chat in one language: the shop's wording as the value, ours as the hint."""
    if request.method == "GET":
        language = _language(request.args.get("language", ENGLISH))
        return _render(language, dict((get_store_settings().chat_texts or {}).get(language) or {}))
    language = _language(request.form.get("language"))
    posted = _posted_texts()
    try:
        save_chat_texts(language, posted)
    except InvalidChatTexts as refused:
        return _render(language, posted, refused.errors, 422)
    reset = request.form.get("reset")
    if reset in CHAT_TEXT_KEYS:
        flash(f"“{CHAT_TEXT_LABELS[reset]}” is back to the default in {LANGUAGES[language]}.", "success")
    else:
        flash(f"Chat texts in {LANGUAGES[language]} saved.", "success")
    return redirect(url_for("admin.settings_chat_texts", language=language), 303)
