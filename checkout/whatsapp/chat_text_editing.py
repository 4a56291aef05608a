"""What a shop may write over the ordering chat's texts (checkout/whatsapp/chat_order_texts.py), and saving it.

The shop's texts are kept in StoreSettings.chat_texts as {language: {key: text}}, only where they differ from
ours: an empty field means our text. Each text is checked when it is saved, in the words of the message texts
(checkout/whatsapp/wording.py): InvalidMessageText says why, for the shop owner.

- Placeholders: only those our text for the key uses ({item}, {count}…); literal braces are doubled.
  REQUIRED_PLACEHOLDERS must stay: they carry what the customer cannot read anywhere else in that message —
  the order's reference and link, the cart's lines and amounts, the address offered or chosen, the reason
  something failed, the number they may type, the name a button offers, the items not found.
- Length: a button label or a list's button at most 20 characters, a row title 24, a row description 72, on
  one line (the placeholders' values are shortened at send time, not counted here); any other text at most
  CHAT_TEXT_MAX characters, so with its values it fits an interactive body (1,024) and a text body (4,096).
- No invisible control characters (NUL and the like) and no Unicode bidirectional controls.
"""

import string
import unicodedata
from collections.abc import Mapping

from checkout.models.store import StoreSettings, save_store_settings
from checkout.unicode_safety import has_bidi_controls
from checkout.whatsapp.chat_order_texts import ENGLISH, LANGUAGES, TEXTS
from checkout.whatsapp.limits import (
    BUTTON_TITLE_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_BUTTON_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
)
from checkout.whatsapp.wording import InvalidMessageText, normalise_text

CHAT_TEXT_MAX = INTERACTIVE_BODY_MAX - 24  # room for the values filled in

CHAT_TEXT_KEYS: tuple[str, ...] = tuple(TEXTS[ENGLISH])

# Where a short label is sent, and the most characters Meta shows there.
_BUTTON = ("a button label", BUTTON_TITLE_MAX)
_LIST_BUTTON = ("a list's button", LIST_BUTTON_MAX)
_ROW_TITLE = ("a list row", ROW_TITLE_MAX)
_ROW_DESCRIPTION = ("a row's description", ROW_DESCRIPTION_MAX)
LABEL_LIMITS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(
        (
            "add_more",
            "view_cart",
            "checkout",
            "remove",
            "change_quantity",
            "back_to_cart",
            "use_name",
            "delivery",
            "pickup",
            "use_last_address",
            "confirm",
            "cancel",
        ),
        _BUTTON,
    ),
    # "Your cart" is a row title and the cart list's button: the button's limit is the smaller.
    **dict.fromkeys(("button_choose", "button_categories", "button_quantity", "cart_row"), _LIST_BUTTON),
    "more_than_ten": _ROW_TITLE,
    "items": _ROW_DESCRIPTION,
}

REQUIRED_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "already_placed": ("reference", "url"),
    "cart": ("lines", "subtotal"),
    "summary": ("lines", "money", "fulfilment", "payment", "name"),
    "subtotal": ("amount",),
    "delivery_fee": ("amount",),
    "discount": ("amount",),
    "total": ("amount",),
    "deliver_to": ("address",),
    "pickup_at": ("address",),
    "ask_address_or_last": ("address",),
    "not_placed": ("problem",),
    "not_added": ("problem",),
    "only_left": ("left",),
    "name_too_long": ("most",),
    "address_too_long": ("most",),
    "unknown_skus": ("skus",),
    "use_name": ("name",),
    "items": ("count",),
}

# The texts as the settings page lists them: a heading per part of the chat, a readable label per text.
CHAT_TEXT_GROUPS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "Starting and choosing",
        {
            "choose_category": "Asking for a category",
            "choose_product": "Showing the products found",
            "choose_any": "Showing every product",
            "nothing_to_sell": "Nothing can be ordered",
            "cart_kept": "A cart from before is kept",
            "button_categories": "Button that opens the categories",
            "button_choose": "Button that opens a list to choose from",
            "choose_option": "Asking for an option (size, colour…)",
            "choose_quantity": "Asking how many",
            "button_quantity": "Button that opens the quantities",
            "more_than_ten": "Row for 10 or more",
            "type_quantity": "Asking to type how many",
            "only_left": "Fewer left than asked for",
        },
    ),
    (
        "The cart",
        {
            "added": "Item added to the cart",
            "not_added": "Item not added (with the reason)",
            "what_next": "Asking what to do next",
            "add_more": "Button: add more",
            "view_cart": "Button: view the cart",
            "checkout": "Button: checkout",
            "cart": "The cart",
            "cart_row": "Row and button for the cart",
            "items": "Number of items (under the cart row)",
            "cart_empty": "The cart is empty",
            "line_menu": "One item of the cart",
            "remove": "Button: remove the item",
            "change_quantity": "Button: change the quantity",
            "back_to_cart": "Button: back to the cart",
            "removed": "Item removed",
            "unknown_skus": "Items of a catalog cart not found",
            "nothing_added": "Nothing of a catalog cart could be added",
        },
    ),
    (
        "Name, delivery and payment",
        {
            "ask_name": "Asking for the name",
            "use_name": "Button: use the WhatsApp name",
            "name_too_long": "The name is too long",
            "ask_fulfilment": "Asking delivery or pickup",
            "delivery": "Button: delivery",
            "pickup": "Button: pickup",
            "ask_address": "Asking for the delivery address",
            "ask_address_or_last": "Asking for the address, offering the last one",
            "use_last_address": "Button: use the last address",
            "address_too_long": "The address is too long",
            "ask_payment": "Asking how the customer will pay",
        },
    ),
    (
        "Summary and order",
        {
            "summary": "The order summary",
            "subtotal": "Summary: subtotal line",
            "delivery_fee": "Summary: delivery fee line",
            "discount": "Summary: discount line",
            "total": "Summary: total line",
            "deliver_to": "Summary: delivery address",
            "pickup_at": "Summary: pickup address",
            "confirm": "Button: confirm the order",
            "cancel": "Button: cancel the order",
            "cancelled": "The order was cancelled",
            "not_placed": "The order could not be placed",
            "prices_changed": "Prices changed since the summary",
            "already_placed": "The order is already placed",
            "summary_outdated": "An old summary was tapped",
        },
    ),
    (
        "Off-script",
        {
            "sorry_again": "Not understood (the question follows)",
            "stopped": "The customer stopped ordering",
            "handed_over": "Handed to a person on request",
            "handed_over_confused": "Handed to a person after two misunderstandings",
        },
    ),
)
CHAT_TEXT_LABELS: dict[str, str] = {key: label for _, labels in CHAT_TEXT_GROUPS for key, label in labels.items()}


class InvalidChatTexts(ValueError):
    """Some of the texts posted for a language cannot be used: `errors` maps each key to why. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def placeholders_of(key: str) -> tuple[str, ...]:
    """The placeholders our text for `key` uses, in order: the only ones a shop's text may use."""
    names = (name for _, name, _, _ in string.Formatter().parse(TEXTS[ENGLISH][key]) if name)
    return tuple(dict.fromkeys(names))


def _describe(names) -> str:
    return ", ".join("{" + name + "}" for name in names)


def _used_placeholders(key: str, text: str) -> list[str]:
    allowed = placeholders_of(key)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidMessageText(
            "A brace is not closed or not opened. Placeholders look like {item}; write {{ or }} for a brace on its own."
        ) from None
    used = []
    for _, name, format_spec, conversion in parsed:
        if name is None:
            continue
        if format_spec or conversion:
            raise InvalidMessageText(f"Write placeholders plainly, like {{{name}}}, without extras.")
        if name not in allowed:
            shown = "{" + name + "}" if name.strip() else "{}"
            you_can = f"You can use: {_describe(allowed)}." if allowed else "This text takes no placeholders."
            raise InvalidMessageText(f"{shown} can't be used in this text. {you_can}")
        used.append(name)
    return used


def _check_characters(text: str) -> None:
    if any(unicodedata.category(char) == "Cc" and char != "\n" for char in text):
        raise InvalidMessageText("Remove the invisible control characters (a NUL, a tab…): only line breaks may stay.")
    if has_bidi_controls(text):
        raise InvalidMessageText("Remove the invisible text-direction marks: they change how the message reads.")


def _check_length(key: str, text: str) -> None:
    if key in LABEL_LIMITS:
        where, most = LABEL_LIMITS[key]
        if "\n" in text:
            raise InvalidMessageText(f"This is {where}: keep it on one line.")
        fixed = "".join(literal for literal, _, _, _ in string.Formatter().parse(text))
        if len(fixed) > most:
            raise InvalidMessageText(
                f"This is {where}: WhatsApp shows at most {most} characters (it has {len(fixed)})."
            )
    elif len(text) > CHAT_TEXT_MAX:
        raise InvalidMessageText(f"Keep the text to {CHAT_TEXT_MAX} characters (it has {len(text)}).")


def check_chat_text(key: str, text: str) -> None:
    """Raise InvalidMessageText unless `text` (not empty, normalised) can be the shop's wording of `key`."""
    if key not in TEXTS[ENGLISH]:
        raise KeyError(key)
    _check_characters(text)
    used = _used_placeholders(key, text)
    _check_length(key, text)
    missing = [name for name in REQUIRED_PLACEHOLDERS.get(key, ()) if name not in used]
    if missing:
        them = "it" if len(missing) == 1 else "them"
        raise InvalidMessageText(f"Keep {_describe(missing)}: the customer needs {them} in this message.")


def our_text(language: str, key: str) -> str:
    """Our own wording of `key` in `language` (English where that language has none): what a saved text replaces."""
    return TEXTS.get(language, {}).get(key) or TEXTS[ENGLISH][key]


def chat_texts_after(current: Mapping | None, language: str, submitted: Mapping[str, str]) -> dict:
    """The shop's chat texts with `submitted` ({key: text}) as its wording in `language`.

    Keeps only texts that are not empty and differ from ours; keys not submitted keep their stored text, other
    languages are untouched. Raises InvalidChatTexts naming every text that cannot be used.
    """
    if language not in LANGUAGES:
        raise KeyError(language)
    stored = {other: dict(texts) for other, texts in (current or {}).items() if isinstance(texts, Mapping)}
    texts = stored.get(language, {})
    errors = {}
    for key, raw in submitted.items():
        if key not in TEXTS[ENGLISH]:
            continue
        text = normalise_text(raw)
        texts.pop(key, None)
        if not text or text == our_text(language, key):
            continue
        try:
            check_chat_text(key, text)
        except InvalidMessageText as refused:
            errors[key] = refused.message
        texts[key] = text
    if errors:
        raise InvalidChatTexts(errors)
    stored[language] = texts
    return {other: texts for other, texts in stored.items() if texts}


def save_chat_texts(language: str, submitted: Mapping[str, str]) -> StoreSettings:
    """Check the texts posted for `language` and store them in one transaction; raises InvalidChatTexts and
    writes nothing when any is refused."""
    return save_store_settings(
        lambda settings: {"chat_texts": chat_texts_after(settings.chat_texts, language, submitted)}
    )
