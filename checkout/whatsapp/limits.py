"""Meta's limits on outbound message payloads, checked before anything is sent.

One over-long button title makes Meta reject the whole message, so a payload that breaks a limit
never leaves: it fails here, with every problem named, and the order shows the failure to staff.
"""

import re

from checkout.unicode_safety import has_bidi_controls, strip_bidi_controls
from checkout.whatsapp.templates import TEMPLATES, MessageTemplate

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_FOOTER_MAX = 60
REPLY_BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
CTA_DISPLAY_TEXT_MAX = 20
CTA_URL_MAX = 2000
# Meta opens a call-to-action URL in the phone's web browser: a web address, not upi:// or another app's scheme.
CTA_URL_SCHEMES = ("https://",)
TEMPLATE_PARAMETER_MAX = 1024
TEMPLATE_BODY_MAX = 1024  # the body with its parameters filled in (Meta: 132005)
DOCUMENT_CAPTION_MAX = 1024
DOCUMENT_FILENAME_MAX = 240  # not Meta's figure: what every phone's file system keeps whole
# Meta refuses a parameter with a new line, a tab or more than four spaces in a row; every character that
# starts a new line counts (\r, \v, \f, U+2028, U+2029 came in with customer names and were refused).
_LINE_BREAKS = "\n\r\t\v\f\x85\u2028\u2029"
_TEMPLATE_PARAMETER_FORBIDDEN = re.compile(f"[{_LINE_BREAKS}]| {{5,}}")
_LINE_BREAK_RUN = re.compile(f"\\s*[{_LINE_BREAKS}]+\\s*")
ELLIPSIS = "…"


class PayloadInvalid(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _length(problems: list[str], label: str, value, maximum: int, required: bool = True) -> None:
    if value is None or value == "":
        if required:
            problems.append(f"{label} is missing")
        return
    if not isinstance(value, str):
        problems.append(f"{label} must be text")
    elif len(value) > maximum:
        problems.append(f"{label} is {len(value)} characters, more than {maximum}")


def _check_text(payload: dict, problems: list[str]) -> None:
    _length(problems, "text body", (payload.get("text") or {}).get("body"), TEXT_BODY_MAX)


def _check_interactive(payload: dict, problems: list[str]) -> None:
    interactive = payload.get("interactive") or {}
    _length(problems, "interactive body", (interactive.get("body") or {}).get("text"), INTERACTIVE_BODY_MAX)
    header = interactive.get("header")
    if header and header.get("type") == "text":
        _length(problems, "header", header.get("text"), HEADER_FOOTER_MAX)
    if interactive.get("footer"):
        _length(problems, "footer", interactive["footer"].get("text"), HEADER_FOOTER_MAX)
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= REPLY_BUTTONS_MAX:
            problems.append(f"{len(buttons)} reply buttons; 1 to {REPLY_BUTTONS_MAX} are allowed")
        ids = [((b.get("reply") or {}).get("id")) for b in buttons]
        if len(set(ids)) != len(ids):
            problems.append("reply button ids must be unique")
        for number, button in enumerate(buttons, 1):
            reply = button.get("reply") or {}
            _length(problems, f"button {number} title", reply.get("title"), BUTTON_TITLE_MAX)
            _length(problems, f"button {number} id", reply.get("id"), BUTTON_ID_MAX)
    elif interactive.get("type") == "list":
        _length(problems, "list button", action.get("button"), LIST_BUTTON_MAX)
        sections = action.get("sections") or []
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
            problems.append(f"{len(sections)} list sections; 1 to {LIST_SECTIONS_MAX} are allowed")
        if not 1 <= len(rows) <= LIST_ROWS_MAX:
            problems.append(f"{len(rows)} list rows; 1 to {LIST_ROWS_MAX} are allowed")
        for section in sections:
            _length(problems, "section title", section.get("title"), SECTION_TITLE_MAX, required=len(sections) > 1)
        for number, row in enumerate(rows, 1):
            _length(problems, f"row {number} title", row.get("title"), ROW_TITLE_MAX)
            _length(problems, f"row {number} id", row.get("id"), ROW_ID_MAX)
            _length(problems, f"row {number} description", row.get("description"), ROW_DESCRIPTION_MAX, required=False)
    elif interactive.get("type") == "cta_url":
        _check_call_to_action(action, problems)
    else:
        problems.append(f"unknown interactive type {interactive.get('type')!r}")


def _check_call_to_action(action: dict, problems: list[str]) -> None:
    if action.get("name") != "cta_url":
        problems.append("a call-to-action button's action name must be cta_url")
    parameters = action.get("parameters") or {}
    _length(problems, "button text", parameters.get("display_text"), CTA_DISPLAY_TEXT_MAX)
    url = parameters.get("url")
    _length(problems, "button URL", url, CTA_URL_MAX)
    if isinstance(url, str) and url and not url.startswith(CTA_URL_SCHEMES):
        problems.append("button URL must be an https:// web address")


def _check_template(payload: dict, problems: list[str]) -> None:
    template = payload.get("template") or {}
    _length(problems, "template name", template.get("name"), 512)
    _length(problems, "template language", (template.get("language") or {}).get("code"), 16)
    body_values: list[str] = []
    for component in template.get("components") or []:
        for number, parameter in enumerate(component.get("parameters") or [], 1):
            if parameter.get("type") != "text":
                continue
            value = parameter.get("text") or ""
            label = f"{component.get('type')} parameter {number}"
            _length(problems, label, value, TEMPLATE_PARAMETER_MAX)
            if _TEMPLATE_PARAMETER_FORBIDDEN.search(value):
                problems.append(f"{label} contains a line break, a tab or more than 4 spaces in a row")
            if has_bidi_controls(value):
                problems.append(f"{label} contains Unicode bidirectional control characters")
            if component.get("type") == "body":
                body_values.append(value)
    known = TEMPLATES.get(template.get("name"))
    if known is not None and len(body_values) == known.parameter_count:
        length = hydrated_length(known, body_values)
        if length > TEMPLATE_BODY_MAX:
            problems.append(f"template body is {length} characters with its parameters, more than {TEMPLATE_BODY_MAX}")


def _check_document(payload: dict, problems: list[str]) -> None:
    document = payload.get("document") or {}
    if bool(document.get("id")) == bool(document.get("link")):
        problems.append("a document needs either an uploaded media id or a link, not both")
    link = document.get("link")
    if link and not (isinstance(link, str) and link.startswith(("https://", "http://"))):
        problems.append("document link must be an http(s) address")
    _length(problems, "document caption", document.get("caption"), DOCUMENT_CAPTION_MAX, required=False)
    filename = document.get("filename")
    _length(problems, "document filename", filename, DOCUMENT_FILENAME_MAX, required=False)
    if isinstance(filename, str) and any(mark in filename for mark in "/\\"):
        problems.append("document filename must not contain a folder")


CHECKS = {
    "text": _check_text,
    "interactive": _check_interactive,
    "template": _check_template,
    "document": _check_document,
}


def check_payload(payload: dict) -> None:
    """Raise PayloadInvalid listing every limit the payload breaks; return quietly if it is sendable."""
    problems: list[str] = []
    check = CHECKS.get(payload.get("type"))
    if check is None:
        problems.append(f"unsupported message type {payload.get('type')!r}")
    else:
        check(payload, problems)
    if problems:
        raise PayloadInvalid(problems)


def template_parameter(text: str) -> str:
    """Make a value safe as a template parameter: one line, no tabs, no long runs of spaces, no bidi controls."""
    flat = _LINE_BREAK_RUN.sub(" · ", strip_bidi_controls(text).strip())
    return re.sub(r" {5,}", "    ", flat)[:TEMPLATE_PARAMETER_MAX]


def hydrated_length(template: MessageTemplate, values: list[str]) -> int:
    """How long the template's body is with `values` filled in: what Meta holds to TEMPLATE_BODY_MAX."""
    return len(template.render(values))


def template_parameter_room(template: MessageTemplate, values: list[str], position: int) -> int:
    """The most characters parameter `position` (0-based) may have so the filled-in body fits, the others as given."""
    others = [value if index != position else "" for index, value in enumerate(values)]
    return max(0, min(TEMPLATE_PARAMETER_MAX, TEMPLATE_BODY_MAX - hydrated_length(template, others)))


def fit_template_parameters(template: MessageTemplate, values: list[str]) -> list[str]:
    """Shorten the longest parameters (ending them with …) until the filled-in body fits TEMPLATE_BODY_MAX."""
    fitted = list(values)
    while hydrated_length(template, fitted) > TEMPLATE_BODY_MAX:
        longest = max(range(len(fitted)), key=lambda index: len(fitted[index]))
        room = template_parameter_room(template, fitted, longest)
        if room >= len(fitted[longest]) or room < 2:
            break  # nothing left to shorten: check_payload names the problem
        fitted[longest] = fitted[longest][: room - 1].rstrip() + ELLIPSIS
    return fitted
