"""The configured couriers: adding and changing one, its secret, and checking that a POST really is from it.

A courier authenticates in one of two ways, fixed by its preset or chosen for a generic one:
- `hmac`: HMAC-SHA256 of the raw body with the secret, in a header (hex, `sha256=<hex>` or base64);
- `token`: the secret itself, in a header (a `Bearer `/`Token ` prefix is allowed) or as `?token=`.
Both compare in constant time. The secret is made here, never typed, and shown to staff once.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select

from checkout.carriers import mapping
from checkout.carriers.presets import GENERIC, HMAC, PRESETS, TOKEN
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.carriers import Carrier

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
HEADER_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")
DEFAULT_HEADERS = {HMAC: "X-Signature", TOKEN: "X-Webhook-Token"}
STATUS_MAP_MAX = 60  # rows in one courier's status table
TOKEN_PREFIXES = ("bearer ", "token ")


class InvalidCarrier(ValueError):
    """A courier's settings were refused; `errors` says why, by field."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass
class CarrierDraft:
    """A courier as staff typed it; the status table as lines of `Courier status = our event`."""

    name: str = ""
    label: str = ""
    preset: str = GENERIC
    auth: str = TOKEN
    auth_header: str = ""
    paths: dict[str, str] = field(default_factory=dict)
    status_lines: str = ""
    active: bool = True
    # Where a failed delivery's choices go (checkout/carriers/actions.py): "" for none. A token left empty on an
    # edit keeps the stored one; clearing the URL clears both.
    action_url: str = ""
    action_token: str = ""


def find_active(name: str) -> Carrier | None:
    return db.session.scalar(select(Carrier).where(Carrier.name == name, Carrier.active.is_(True)))


def all_carriers() -> list[Carrier]:
    return list(db.session.scalars(select(Carrier).order_by(Carrier.name)))


def auth_of(carrier: Carrier) -> tuple[str, str]:
    """How this courier proves itself: (hmac or token, header)."""
    preset = PRESETS.get(carrier.preset)
    if preset is not None:
        return preset.auth, preset.auth_header
    return carrier.auth, carrier.auth_header or DEFAULT_HEADERS[carrier.auth]


def sign(raw_body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 a signing courier sends."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def authenticated(carrier: Carrier, raw_body: bytes, headers, query) -> bool:
    """True when the POST carries this courier's signature or token; constant-time either way."""
    kind, header = auth_of(carrier)
    sent = (headers.get(header) or "").strip()
    if kind == HMAC:
        return bool(sent) and _signature_matches(raw_body, sent, carrier.secret)
    if sent.lower().startswith(TOKEN_PREFIXES):
        sent = sent.split(" ", 1)[1].strip()
    sent = sent or (query.get("token") or "")
    return bool(sent) and hmac.compare_digest(sent.encode(), carrier.secret.encode())


def _signature_matches(raw_body: bytes, sent: str, secret: str) -> bool:
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    sent = sent.removeprefix("sha256=")
    hex_match = hmac.compare_digest(sent.lower().encode(), digest.hex().encode())
    base64_match = hmac.compare_digest(sent.encode(), base64.b64encode(digest))
    return hex_match or base64_match


def read_body(carrier: Carrier, body) -> tuple[mapping.CarrierReading, str]:
    """What the body says (through the preset or the carrier's own paths) and our event for its status."""
    preset = PRESETS.get(carrier.preset)
    paths = preset.paths if preset is not None else (carrier.paths or {})
    reading = mapping.read(body, paths)
    if preset is not None and preset.status_of is not None:
        status = preset.status_of(body)[: mapping.VALUE_MAX["status"]]
        reading = mapping.CarrierReading(**{**reading.__dict__, "status": status})
    return reading, mapping.event_for(reading.status, carrier.status_map or {})


def status_lines(status_map: dict[str, str]) -> str:
    return "\n".join(f"{name} = {event}" for name, event in status_map.items())


def parse_status_lines(text: str) -> tuple[dict[str, str], str]:
    """`Courier status = our event` per line → the table, or an error naming the first bad line."""
    table = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, event = line.rpartition("=")
        name, event = name.strip(), event.strip()
        if not sep or not name or event not in mapping.EVENT_LABELS:
            return {}, f"Line {number}: write “courier status = one of {', '.join(mapping.EVENT_LABELS)}”."
        if len(name) > mapping.VALUE_MAX["status"]:
            return {}, f"Line {number}: a status name is at most {mapping.VALUE_MAX['status']} characters."
        table[name] = event
    if len(table) > STATUS_MAP_MAX:
        return {}, f"At most {STATUS_MAP_MAX} statuses."
    return table, ""


def _checked(draft: CarrierDraft, *, new: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(paths, status table) of a valid draft, or InvalidCarrier with every problem."""
    errors = {}
    if new and not NAME_PATTERN.match(draft.name):
        errors["name"] = "Lower-case letters, digits and dashes, at most 40 (it becomes the webhook address)."
    elif new and db.session.scalar(select(Carrier.id).where(Carrier.name == draft.name)) is not None:
        errors["name"] = "A courier with this name exists already."
    if len(draft.label) > 80:
        errors["label"] = "At most 80 characters."
    if draft.preset != GENERIC and draft.preset not in PRESETS:
        errors["preset"] = "Choose one of the couriers listed."
    if draft.preset == GENERIC:
        if draft.auth not in (HMAC, TOKEN):
            errors["auth"] = "Choose a signature or a token."
        if draft.auth_header and not HEADER_PATTERN.match(draft.auth_header):
            errors["auth_header"] = "A header name: letters, digits and dashes."
    paths = {k: (draft.paths.get(k) or "").strip() for k in mapping.PATH_FIELDS if (draft.paths.get(k) or "").strip()}
    for key, path in paths.items():
        if len(path) > mapping.PATH_MAX or " " in path:
            errors[f"path_{key}"] = f"A dotted path without spaces, at most {mapping.PATH_MAX} characters."
    if draft.preset == GENERIC and not errors:
        for key in ("tracking_number", "status"):
            if key not in paths:
                errors[f"path_{key}"] = "Needed: where the courier puts it."
    url = draft.action_url.strip()
    if url and (len(url) > 300 or not re.match(r"^https?://[^\s/]+", url)):
        errors["action_url"] = "An http(s) address, at most 300 characters — or empty for none."
    if len(draft.action_token.strip()) > 200:
        errors["action_token"] = "At most 200 characters."
    table, problem = parse_status_lines(draft.status_lines)
    if problem:
        errors["status_lines"] = problem
    if errors:
        raise InvalidCarrier(errors)
    return paths, table


def add_carrier(draft: CarrierDraft) -> tuple[Carrier, str]:
    """Save a new courier with a fresh secret; (the courier, its secret) — the only time the secret is given."""
    draft.name = draft.name.strip().lower()
    secret = secrets.token_urlsafe(32)
    with transaction():
        paths, table = _checked(draft, new=True)
        preset = PRESETS.get(draft.preset)
        carrier = Carrier(
            name=draft.name,
            label=draft.label.strip() or (preset.label if preset else draft.name),
            preset=draft.preset,
            auth=preset.auth if preset else draft.auth,
            auth_header=draft.auth_header.strip() if not preset else "",
            secret=secret,
            paths={} if preset else paths,
            status_map=table or (dict(preset.status_map) if preset else {}),
            active=True,
        )
        _set_action(carrier, draft)
        db.session.add(carrier)
    return carrier, secret


def update_carrier(carrier_id: int, draft: CarrierDraft) -> Carrier:
    """Change a courier's label, fields, status table or whether it is on; its name and secret stay."""
    with transaction():
        carrier = db.session.get(Carrier, carrier_id)
        if carrier is None:
            raise LookupError(carrier_id)
        draft.preset = carrier.preset
        paths, table = _checked(draft, new=False)
        carrier.label = draft.label.strip() or carrier.label
        if carrier.preset == GENERIC:
            carrier.auth, carrier.auth_header, carrier.paths = draft.auth, draft.auth_header.strip(), paths
        carrier.status_map = table
        carrier.active = draft.active
        _set_action(carrier, draft)
    return carrier


def _set_action(carrier: Carrier, draft: CarrierDraft) -> None:
    carrier.action_url = draft.action_url.strip()
    if not carrier.action_url:
        carrier.action_token = ""
    elif draft.action_token.strip():
        carrier.action_token = draft.action_token.strip()


def new_secret(carrier_id: int) -> str:
    """Replace a courier's secret (the old one stops working at once); the new one, given this once."""
    with transaction():
        carrier = db.session.get(Carrier, carrier_id)
        if carrier is None:
            raise LookupError(carrier_id)
        carrier.secret = secret = secrets.token_urlsafe(32)
    return secret
