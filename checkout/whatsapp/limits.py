"""Meta's limits on outbound message payloads, checked before anything is sent.

One over-long button title makes Meta reject the whole message, so a payload that breaks a limit
never leaves: it fails here, with every problem named, and the order shows the failure to staff.
"""

import re

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
TEMPLATE_PARAMETER_MAX = 1024
_TEMPLATE_PARAMETER_FORBIDDEN = re.compile(r"[\n\t]| {5,}")


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
    else:
        problems.append(f"unknown interactive type {interactive.get('type')!r}")


def _check_template(payload: dict, problems: list[str]) -> None:
    template = payload.get("template") or {}
    _length(problems, "template name", template.get("name"), 512)
    _length(problems, "template language", (template.get("language") or {}).get("code"), 16)
    for component in template.get("components") or []:
        for number, parameter in enumerate(component.get("parameters") or [], 1):
            if parameter.get("type") != "text":
                continue
            value = parameter.get("text") or ""
            label = f"{component.get('type')} parameter {number}"
            _length(problems, label, value, TEMPLATE_PARAMETER_MAX)
            if _TEMPLATE_PARAMETER_FORBIDDEN.search(value):
                problems.append(f"{label} contains a newline, a tab or more than 4 spaces in a row")


CHECKS = {"text": _check_text, "interactive": _check_interactive, "template": _check_template}


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
    """Make a value safe as a template parameter: one line, no tabs, no long runs of spaces."""
    flat = re.sub(r"\s*[\n\t]+\s*", " · ", text.strip())
    return re.sub(r" {5,}", "    ", flat)[:TEMPLATE_PARAMETER_MAX]
