"""The website plugin: which sites may use the widget, its chat numbers, greeting and hours, its keys,
and the one `<script>` tag a shop pastes into its own site.

The rules live here; admin/website.py only turns form fields into these calls and errors into notes.
Widget keys are public by nature (they sit in every page of the shop's site), which is why they can
only create orders, and only from the origins listed here.
"""

import html
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from checkout.api import keys
from checkout.extensions import db
from checkout.models.api import ApiKey
from checkout.models.store import StoreSettings, get_store_settings, save_store_settings
from checkout.phones import InvalidPhone, normalise_business_phone
from checkout.shop.working_hours import DAYS

ORIGINS_MAX = 20
NUMBERS_MAX = 10
GREETING_MAX = 200  # the column's size
KEY_NAME_MAX = 80
SNIPPET_MESSAGE_MAX = 300
ROTATIONS = {"round_robin": "Take turns: each chat goes to the next number", "random": "Pick a number at random"}
KEY_KINDS = {
    "widget": "Widget key: for the script on your website. It can only create orders, from the sites listed above.",
    "secret": "Secret key: for your own server or shop software. It can create and read orders. Never put it in a page.",
}
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))
SNIPPET_MODES = {"cart": "Chat button and cart", "chat": "Chat button only"}
KEY_PLACEHOLDER = "YOUR-WIDGET-KEY"
DEFAULT_PORTS = {"http": 80, "https": 443}

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


class InvalidOrigin(ValueError):
    """Not a site address the browser would send as `Origin`; the message says what to type instead."""


class InvalidWebsiteSettings(Exception):
    """The change was refused and nothing written; `errors` maps a field (or a weekday like "mon") to a reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("The website plugin settings were not saved.")
        self.errors = errors


class ApiKeyNotFound(LookupError):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Allowed origins
# ---------------------------------------------------------------------------------------------------------------


def _ascii_host(host: str) -> str:
    """The host as browsers write it in `Origin`: lower case, international names in punycode."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidOrigin(f"{host!r} is not a valid host name.") from None
    if not all(_HOST_LABEL.match(label) for label in ascii_host.split(".")):
        raise InvalidOrigin(f"{host!r} is not a valid host name.")
    return ascii_host


def normalise_origin(raw: str) -> str:
    """'HTTPS://Shop.Example:443/' → 'https://shop.example'. Scheme, host and a port only; InvalidOrigin if not."""
    text = (raw or "").strip()
    if text == "*":
        raise InvalidOrigin("A wildcard would let every site use your widget key: list your sites one by one.")
    if any(c.isspace() for c in text):
        raise InvalidOrigin("A site address has no spaces.")
    if "://" not in text:
        raise InvalidOrigin(f"Start with https:// (or http://), e.g. https://{text.strip('/')}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidOrigin("Only http:// and https:// sites can load the widget.")
    if parts.username is not None or parts.password is not None:
        raise InvalidOrigin("Leave out any user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        site = f"{scheme}://{parts.netloc}"
        raise InvalidOrigin(f"Give the site only, without a path: {site}")
    if not parts.hostname:
        raise InvalidOrigin("Give the site's host name, e.g. https://myshop.example")
    try:
        port = parts.port
    except ValueError:
        raise InvalidOrigin("The port must be a number from 1 to 65535.") from None
    if port == 0:
        raise InvalidOrigin("The port must be a number from 1 to 65535.")
    origin = f"{scheme}://{_ascii_host(parts.hostname)}"
    return origin if port in (None, DEFAULT_PORTS[scheme]) else f"{origin}:{port}"


def parse_origins(text: str) -> list[str]:
    """One site per line, blank lines ignored, duplicates dropped; InvalidOrigin names the first bad line."""
    origins: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            origins.append(normalise_origin(line))
        except InvalidOrigin as error:
            raise InvalidOrigin(f"Line {number} ({line.strip()[:60]}): {error}") from None
    origins = list(dict.fromkeys(origins))
    if len(origins) > ORIGINS_MAX:
        raise InvalidOrigin(f"List at most {ORIGINS_MAX} sites.")
    return origins


# ---------------------------------------------------------------------------------------------------------------
# Chat numbers, rotation, greeting, working hours
# ---------------------------------------------------------------------------------------------------------------


def parse_widget_numbers(text: str, default_region: str) -> list[str]:
    """The shop's WhatsApp Business numbers, one a line in any format → E.164, no duplicates; InvalidPhone names the line."""
    numbers: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            numbers.append(normalise_business_phone(line, default_region))  # the shop's own chat numbers
        except InvalidPhone as error:
            raise InvalidPhone(f"Line {number} ({line.strip()[:32]}): {error}") from None
    numbers = list(dict.fromkeys(numbers))
    if len(numbers) > NUMBERS_MAX:
        raise InvalidPhone(f"List at most {NUMBERS_MAX} numbers.")
    return numbers


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def normalise_timezone(raw: str) -> str:
    """'asia/kolkata' → 'Asia/Kolkata'; ValueError for anything the IANA database doesn't name."""
    name = _zones_by_lower_name().get((raw or "").strip().lower())
    if name is None:
        raise ValueError(raw)
    return name


def normalise_time(raw: str) -> str:
    """'9:00' → '09:00' (24-hour clock, seconds dropped); ValueError if it isn't a time of day."""
    match = _TIME.match((raw or "").strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(raw)
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _day_span(opens: str, closes: str) -> list[str] | None:
    """["09:00", "18:00"], None for a closed day, or ValueError with a reason for the owner."""
    opens, closes = (opens or "").strip(), (closes or "").strip()
    if not opens and not closes:
        return None
    if not opens or not closes:
        raise ValueError("Give both the opening and the closing time, or neither for a closed day.")
    try:
        span = [normalise_time(opens), normalise_time(closes)]
    except ValueError:
        raise ValueError("Write times like 09:00 or 18:30 (24-hour clock).") from None
    if span[0] >= span[1]:
        raise ValueError("Closing must be after opening on the same day (use 23:59 for midnight).")
    return span


def parse_working_hours(timezone: str, days: dict[str, tuple[str, str]], errors: dict[str, str]) -> dict:
    """The `working_hours` value for what was typed; problems go into `errors` under "timezone" or the day."""
    hours: dict = {}
    for day in DAYS:
        try:
            span = _day_span(*days.get(day, ("", "")))
        except ValueError as error:
            errors[day] = str(error)
            continue
        if span:
            hours[day] = span
    if timezone.strip():
        try:
            hours = {"timezone": normalise_timezone(timezone), **hours}
        except ValueError:
            errors["timezone"] = "Use a time zone name from the IANA list, like Asia/Kolkata or Africa/Nairobi."
    elif any(day in hours for day in DAYS):
        errors["timezone"] = "Give the time zone these hours are in, like Asia/Kolkata."
    return hours


@dataclass(frozen=True)
class WebsiteSettingsChange:
    """What the owner typed; nothing here is trusted yet."""

    allowed_origins: str  # one site per line
    widget_numbers: str  # one number per line, any format; empty: the shop's own number
    widget_rotation: str
    widget_greeting: str
    timezone: str
    hours: dict[str, tuple[str, str]]  # "mon" → (opens, closes) as typed; both empty: closed


def _validated_values(change: WebsiteSettingsChange, default_region: str) -> dict:
    """The column values for `change`, or InvalidWebsiteSettings listing every problem at once."""
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values["allowed_origins"] = parse_origins(change.allowed_origins)
    except InvalidOrigin as error:
        errors["allowed_origins"] = str(error)
    try:
        values["widget_numbers"] = parse_widget_numbers(change.widget_numbers, default_region)
    except InvalidPhone as error:
        errors["widget_numbers"] = str(error)
    if change.widget_rotation not in ROTATIONS:
        errors["widget_rotation"] = "Choose how the numbers take turns."
    values["widget_rotation"] = change.widget_rotation
    greeting = " ".join((change.widget_greeting or "").split())  # one short line in a bubble
    if len(greeting) > GREETING_MAX:
        errors["widget_greeting"] = f"Keep the greeting to {GREETING_MAX} characters (it has {len(greeting)})."
    values["widget_greeting"] = greeting
    values["working_hours"] = parse_working_hours(change.timezone, change.hours, errors)
    if errors:
        raise InvalidWebsiteSettings(errors)
    return values


def check_website_change(change: WebsiteSettingsChange) -> None:
    """Raise InvalidWebsiteSettings listing every problem with `change`; writes nothing."""
    _validated_values(change, get_store_settings().default_region)


def update_website_settings(change: WebsiteSettingsChange) -> StoreSettings:
    """Check `change` and write it in one transaction; raises InvalidWebsiteSettings and writes nothing if refused."""
    return save_store_settings(lambda settings: _validated_values(change, settings.default_region))


def editable_values(settings: StoreSettings) -> dict:
    """The settings as the form shows them: one item per line, hours split into opening and closing fields."""
    hours = settings.working_hours or {}
    values = {
        "allowed_origins": "\n".join(settings.allowed_origins or []),
        "widget_numbers": "\n".join(settings.widget_numbers or []),
        "widget_rotation": settings.widget_rotation or "round_robin",
        "widget_greeting": settings.widget_greeting or "",
        "timezone": hours.get("timezone", ""),
    }
    for day in DAYS:
        span = hours.get(day) or ["", ""]
        values[f"{day}_opens"], values[f"{day}_closes"] = span[0], span[1]
    return values


# ---------------------------------------------------------------------------------------------------------------
# API keys
# ---------------------------------------------------------------------------------------------------------------


def issue_api_key(name: str, kind: str, created_by: str) -> tuple[ApiKey, str]:
    """A new key, committed; the plaintext is returned this once and only its hash is kept."""
    if kind not in KEY_KINDS:
        raise ValueError(f"unknown key kind {kind!r}")
    key, plaintext = keys.create_key(" ".join((name or "").split())[:KEY_NAME_MAX], kind, created_by[:80])
    db.session.commit()
    return key, plaintext


PREVIEW_KEY_NAME = "Admin preview"


def admin_preview_key(created_by: str) -> str:
    """The widget key the admin's preview uses: one for the shop, made on the first visit and reused.

    A widget key is public by design (every page of the shop's site shows it), so its plaintext may be kept;
    that is what stops each visit or sign-in making another key. Revoked, it is replaced on the next visit.
    """
    settings = get_store_settings()
    if keys.find_active_key(settings.preview_widget_key):
        return settings.preview_widget_key
    db.session.refresh(settings, with_for_update=True)  # two first visits at once make one key
    if not keys.find_active_key(settings.preview_widget_key):
        _, settings.preview_widget_key = keys.create_key(PREVIEW_KEY_NAME, "widget", created_by[:80])
    db.session.commit()
    return settings.preview_widget_key


def find_widget_key(plaintext: str | None) -> str | None:
    """`plaintext` if it is an active widget key, else None (for a snippet carried from page to page)."""
    key = keys.find_active_key(plaintext)
    return plaintext if key is not None and key.kind == "widget" else None


def find_api_key(key_id: int) -> ApiKey:
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise ApiKeyNotFound(key_id)
    return key


def revoke_api_key(key_id: int) -> ApiKey:
    """Stop the key working at once (a second revoke keeps the first date); raises ApiKeyNotFound."""
    key = db.session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        db.session.rollback()
        raise ApiKeyNotFound(key_id)
    keys.revoke(key)
    db.session.commit()
    return key


# ---------------------------------------------------------------------------------------------------------------
# The embed snippet
# ---------------------------------------------------------------------------------------------------------------


def _attribute(name: str, value: str) -> str:
    # Newlines as &#10; keep the snippet on one line, which survives being pasted into site builders.
    return f'{name}="{html.escape(value, quote=True).replace(chr(10), "&#10;")}"'


def embed_snippet(
    script_url: str, widget_key: str | None = None, mode: str = "cart", message: str = "", phone: str = ""
) -> str:
    """The one `<script>` tag for the shop's site; without a key it shows KEY_PLACEHOLDER.

    `phone` (the shop's WhatsApp number) becomes data-phone: the chat button's number on a first visit
    while the shop's server can't be reached."""
    message = (message or "").replace("\r\n", "\n").strip()[:SNIPPET_MESSAGE_MAX]
    attributes = [_attribute("src", script_url), _attribute("data-store-key", widget_key or KEY_PLACEHOLDER)]
    attributes.append(_attribute("data-mode", mode if mode in SNIPPET_MODES else "cart"))
    digits = "".join(c for c in phone or "" if c.isdigit())
    if digits:
        attributes.append(_attribute("data-phone", digits))
    if message:
        attributes.append(_attribute("data-message", message))
    return f"<script {' '.join(attributes)} async></script>"


def add_to_cart_example(sku: str = "YOUR-SKU") -> str:
    """How a shop's own "Add to cart" button hands an item to the widget's cart."""
    return f'<button type="button" {_attribute("data-chatout-add", sku)} data-chatout-qty="1">Add to cart</button>'
