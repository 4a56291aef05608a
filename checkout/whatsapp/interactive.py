"""Interactive WhatsApp messages for ordering in the chat: lists (a page of rows, "More…" for the next) and
reply buttons, always within Meta's limits.

Meta refuses a whole message for one label a character too long, and product names are the shop's, of any
length: every label here is shortened to its limit with an ellipsis instead, never sent too long. Every
message still passes limits.check_payload before it is returned, like every other message Chatout sends.
"""

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from checkout.catalog.values import format_duration
from checkout.money import format_money
from checkout.unicode_safety import strip_bidi_controls
from checkout.whatsapp.limits import (
    BUTTON_TITLE_MAX,
    ELLIPSIS,
    HEADER_FOOTER_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    SECTION_TITLE_MAX,
    check_payload,
)
from checkout.whatsapp.messages import OutboundMessage
from checkout.whatsapp.product_match import ProductMatch

PRODUCT_ROW_PREFIX = "product:"
MORE_ROW_PREFIX = "more:"
MORE_TITLE = "More…"


@dataclass(frozen=True)
class ListRow:
    id: str  # comes back in the customer's list_reply: never shortened, so keep it under ROW_ID_MAX
    title: str
    description: str = ""


def shorten(text: str, maximum: int, *, one_line: bool = True) -> str:
    """The text within `maximum` characters, ending with … when cut; never cut inside a letter and its accents."""
    text = strip_bidi_controls(text).strip()
    if one_line:
        text = " ".join(text.split())
    if len(text) <= maximum:
        return text
    cut = maximum - len(ELLIPSIS)
    while cut > 0 and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1  # a vowel sign or accent stays with its letter
    return text[:cut].rstrip() + ELLIPSIS


def list_message(
    purpose: str,
    body: str,
    button: str,
    rows: Sequence[ListRow],
    *,
    section_title: str = "",
    header: str = "",
    footer: str = "",
) -> OutboundMessage:
    """A list of 1 to 10 rows in one section; labels shortened to Meta's limits. More rows: use `paged_list`."""
    if not 1 <= len(rows) <= LIST_ROWS_MAX:
        raise ValueError(f"a list has 1 to {LIST_ROWS_MAX} rows, not {len(rows)}; page longer ones with paged_list")
    if len({row.id for row in rows}) != len(rows):
        raise ValueError("the rows of a list need different ids: the customer's tap names one")
    section: dict = {"rows": [_row(row) for row in rows]}
    if section_title:
        section["title"] = shorten(section_title, SECTION_TITLE_MAX)
    interactive: dict = {
        "type": "list",
        "body": {"text": shorten(body, INTERACTIVE_BODY_MAX, one_line=False)},
        "action": {"button": shorten(button, LIST_BUTTON_MAX), "sections": [section]},
    }
    _add_header_and_footer(interactive, header, footer)
    readable = "\n".join(
        [interactive["body"]["text"]]
        + [f"• {r['title']}" + (f" — {r['description']}" if r.get("description") else "") for r in section["rows"]]
        + [f"[{interactive['action']['button']}]"]
    )
    return _checked(purpose, {"type": "interactive", "interactive": interactive}, readable)


def paged_list(
    purpose: str,
    body: str,
    button: str,
    rows: Sequence[ListRow],
    *,
    offset: int = 0,
    more_row_id: Callable[[int], str] = lambda offset: f"{MORE_ROW_PREFIX}{offset}",
    more_title: str = MORE_TITLE,
    more_description: Callable[[int], str] = lambda remaining: f"{remaining} more",
    section_title: str = "",
    header: str = "",
    footer: str = "",
) -> OutboundMessage:
    """One page of rows from `offset`: all of them if they fit in 10, else 9 and a "More…" row for the next page.

    An offset past the end (a "More…" tapped after the results shrank) starts again from the first row.
    """
    if not rows:
        raise ValueError("a list needs at least one row")
    start = offset if 0 <= offset < len(rows) else 0
    page = list(rows[start:])
    if len(page) > LIST_ROWS_MAX:
        next_offset = start + LIST_ROWS_MAX - 1
        page = page[: LIST_ROWS_MAX - 1] + [
            ListRow(more_row_id(next_offset), more_title, more_description(len(rows) - next_offset))
        ]
    return list_message(purpose, body, button, page, section_title=section_title, header=header, footer=footer)


def reply_buttons(
    purpose: str, body: str, buttons: Sequence[tuple[str, str]], *, header: str = "", footer: str = ""
) -> OutboundMessage:
    """Up to three reply buttons, given as (id, title); titles shortened to 20 characters."""
    interactive: dict = {
        "type": "button",
        "body": {"text": shorten(body, INTERACTIVE_BODY_MAX, one_line=False)},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": button_id, "title": shorten(title, BUTTON_TITLE_MAX)}}
                for button_id, title in buttons
            ]
        },
    }
    _add_header_and_footer(interactive, header, footer)
    titles = " | ".join(f"[{b['reply']['title']}]" for b in interactive["action"]["buttons"])
    return _checked(
        purpose, {"type": "interactive", "interactive": interactive}, f"{interactive['body']['text']}\n{titles}"
    )


def product_rows(matches: Sequence[ProductMatch], currency: str, locale: str) -> list[ListRow]:
    """One row per product: its name, and its price (from the lowest, when variants differ), a service's duration
    and its category."""
    rows = []
    for match in matches:
        price = format_money(match.lowest_price_minor, currency, locale)
        details = [f"from {price}" if match.has_price_range else price]
        if match.duration_minutes:
            details.append(format_duration(match.duration_minutes))
        if match.category:
            details.append(match.category)
        rows.append(ListRow(f"{PRODUCT_ROW_PREFIX}{match.product_id}", match.name, " · ".join(details)))
    return rows


def product_list(
    matches: Sequence[ProductMatch],
    *,
    currency: str,
    locale: str,
    body: str,
    button: str = "Choose",
    offset: int = 0,
    section_title: str = "",
) -> OutboundMessage:
    """The products a message matched, most relevant first, one page from `offset` with "More…" to page on."""
    return paged_list(
        "product_list",
        body,
        button,
        product_rows(matches, currency, locale),
        offset=offset,
        section_title=section_title,
    )


def product_id_from_row(row_id: str) -> int | None:
    """The product a tapped product row stands for; None for any other row."""
    return _number_after(PRODUCT_ROW_PREFIX, row_id)


def offset_from_more_row(row_id: str) -> int | None:
    """Where the next page starts, for a tapped "More…" row; None for any other row."""
    return _number_after(MORE_ROW_PREFIX, row_id)


def _number_after(prefix: str, row_id: str) -> int | None:
    digits = row_id[len(prefix) :] if row_id.startswith(prefix) else ""
    return int(digits) if digits.isdigit() and len(digits) <= 9 else None


def _row(row: ListRow) -> dict:
    built = {"id": row.id, "title": shorten(row.title, ROW_TITLE_MAX)}
    if row.description.strip():
        built["description"] = shorten(row.description, ROW_DESCRIPTION_MAX)
    return built


def _add_header_and_footer(interactive: dict, header: str, footer: str) -> None:
    if header.strip():
        interactive["header"] = {"type": "text", "text": shorten(header, HEADER_FOOTER_MAX)}
    if footer.strip():
        interactive["footer"] = {"text": shorten(footer, HEADER_FOOTER_MAX)}


def _checked(purpose: str, payload: dict, readable: str) -> OutboundMessage:
    check_payload(payload)
    return OutboundMessage(purpose, payload, readable)
