"""The shop's FAQ: answers to questions customers ask in WhatsApp, each recognised by its keywords.

Staff write entries in the admin; `faq_answer` finds the one a customer's message asks about, reading the
message as product matching does (case, accents, Hinglish spellings and typos forgiven), so an order in
the chat can answer "delivery kab tak hogi?" and carry on. Every word of a keyword must be in the message;
the entry whose matched keyword has the most words wins, then the lowest position, then the oldest.
"""

from dataclasses import dataclass

from sqlalchemy import select

from checkout.catalog.errors import InvalidValue
from checkout.catalog.values import parse_keywords
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.faq import FaqEntry
from checkout.web.integer_input import parse_whole_number
from checkout.whatsapp.customer_text import same_word, words
from checkout.whatsapp.limits import INTERACTIVE_BODY_MAX

QUESTION_MAX = 200
ANSWER_MAX = INTERACTIVE_BODY_MAX  # the answer may be sent with buttons to carry on ordering
POSITION_MAX = 9999


@dataclass(frozen=True)
class FaqDraft:
    """An entry as staff typed it; `position` is text, as a form gives it."""

    question: str
    keywords: str
    answer: str
    active: bool = True
    position: str = ""  # blank: after the last entry


class FaqRejected(Exception):
    """The draft has problems (field → message); nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def list_faq_entries() -> list[FaqEntry]:
    return list(db.session.scalars(select(FaqEntry).order_by(FaqEntry.position, FaqEntry.id)))


def get_faq_entry(entry_id: int) -> FaqEntry | None:
    return db.session.get(FaqEntry, entry_id)


def save_faq_entry(entry: FaqEntry | None, draft: FaqDraft) -> FaqEntry:
    """Create (entry=None) or change an entry; raises FaqRejected with every problem, saving nothing."""
    values = _checked(draft)
    with transaction():
        if values["position"] is None:
            values["position"] = entry.position if entry is not None else _next_position()
        if entry is None:
            entry = FaqEntry()
            db.session.add(entry)
        for name, value in values.items():
            setattr(entry, name, value)
    return entry


def delete_faq_entry(entry: FaqEntry) -> None:
    with transaction():
        db.session.delete(entry)


def faq_answer(text: str) -> str | None:
    """The answer of the active entry the message asks about, or None when no entry's keywords are in it."""
    entry = best_faq_entry(text, [entry for entry in list_faq_entries() if entry.active])
    return entry.answer if entry else None


def best_faq_entry(text: str, entries: list[FaqEntry]) -> FaqEntry | None:
    """Of these entries (in position order), the one whose keywords the message says most fully."""
    typed = words(text)
    best, best_length = None, 0
    for entry in entries:
        for keyword in entry.keyword_list:
            needed = words(keyword)
            if len(needed) > best_length and all(any(same_word(w, n) for w in typed) for n in needed):
                best, best_length = entry, len(needed)
    return best


def _checked(draft: FaqDraft) -> dict:
    errors: dict[str, str] = {}
    question = " ".join(draft.question.split())
    if not question:
        errors["question"] = "Write the question, as customers would ask it."
    elif len(question) > QUESTION_MAX:
        errors["question"] = f"The question can be at most {QUESTION_MAX} characters."
    try:
        keywords = parse_keywords(draft.keywords)
        if not keywords:
            errors["keywords"] = "Give at least one keyword, like “delivery” or “kab tak”."
    except InvalidValue as error:
        errors["keywords"], keywords = error.message, ""
    answer = draft.answer.strip().replace("\r\n", "\n")
    if not answer:
        errors["answer"] = "Write the answer customers get."
    elif len(answer) > ANSWER_MAX:
        errors["answer"] = f"The answer can be at most {ANSWER_MAX} characters (it is {len(answer)})."
    position = parse_whole_number(draft.position, maximum=POSITION_MAX)
    if draft.position.strip() and position is None:
        errors["position"] = f"Use a whole number from 0 to {POSITION_MAX}, or leave it empty."
    if errors:
        raise FaqRejected(errors)
    return dict(question=question, keywords=keywords, answer=answer, active=draft.active, position=position)


def _next_position() -> int:
    last = db.session.scalar(select(FaqEntry.position).order_by(FaqEntry.position.desc()).limit(1))
    return min(POSITION_MAX, (last or 0) + 10) if last is not None else 10
