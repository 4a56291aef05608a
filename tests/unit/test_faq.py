"""The shop's FAQ: which answer a customer's message gets, and what an entry may hold."""

import pytest

from checkout.models import FaqEntry
from checkout.shop.faq import ANSWER_MAX, FaqDraft, FaqRejected, faq_answer, list_faq_entries, save_faq_entry


def add(question, keywords, answer, **fields) -> FaqEntry:
    return save_faq_entry(None, FaqDraft(question=question, keywords=keywords, answer=answer, **fields))


@pytest.fixture
def answers(app_context):
    add("How long does delivery take?", "delivery time, kab tak, how long, kitne din, siku ngapi", "3–7 working days.")
    add("Do you take cash on delivery?", "cod, cash on delivery, cash, dinheiro", "Yes, cash on delivery is fine.")
    add("Where is the shop?", "address, shop kahan, pickup, endereco", "Shop 4, Linking Road, Bandra West.")
    add("Returns", "return, refund, wapas", "Unused items within 7 days.", active=False)


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("delivery kab tak hogi?", "3–7 working days."),
        ("How long will it take?", "3–7 working days."),
        ("what is the delivery time", "3–7 working days."),
        ("what's the time for delivery", "3–7 working days."),  # the keyword's words in any order
        ("kitne din lagenge?", "3–7 working days."),
        ("itachukua siku ngapi?", "3–7 working days."),
        ("COD hai?", "Yes, cash on delivery is fine."),
        ("can I pay cash on delivry", "Yes, cash on delivery is fine."),  # the longer keyword wins, typo and all
        ("aceita dinheiro?", "Yes, cash on delivery is fine."),
        ("shop kahan hai?", "Shop 4, Linking Road, Bandra West."),
        ("Qual é o endereço?", "Shop 4, Linking Road, Bandra West."),
        ("can I get a refund", None),  # that entry is switched off
        ("mujhe chai chahiye", None),
        ("", None),
    ],
)
def test_a_message_gets_the_answer_whose_keywords_it_says(answers, message, answer):
    assert faq_answer(message) == answer


def test_equally_good_matches_go_to_the_lower_position(app_context):
    add("Second", "delivery", "B", position="20")
    add("First", "delivery", "A", position="10")
    assert faq_answer("delivery?") == "A"
    assert [entry.question for entry in list_faq_entries()] == ["First", "Second"]


def test_new_entries_go_after_the_last_and_a_blank_position_on_edit_keeps_it(app_context):
    first = add("One", "a1", "x")
    second = add("Two", "b2", "y")
    assert (first.position, second.position) == (10, 20)
    save_faq_entry(first, FaqDraft(question="One again", keywords="a1", answer="x"))
    assert (first.question, first.position) == ("One again", 10)


def test_every_problem_of_an_entry_is_reported_and_nothing_saved(app_context):
    with pytest.raises(FaqRejected) as refused:
        add("  ", " , ", "x" * (ANSWER_MAX + 1), position="first")
    assert set(refused.value.errors) == {"question", "keywords", "answer", "position"}
    assert "at most 1024 characters" in refused.value.errors["answer"]
    with pytest.raises(FaqRejected) as refused:
        add("Q" * 201, "k" * 61, "", position="99999")
    assert set(refused.value.errors) == {"question", "keywords", "answer", "position"}
    assert list_faq_entries() == []


def test_keywords_and_text_are_kept_tidy(app_context):
    entry = add("  How   long?  ", "Delivery ;kab tak\n delivery", "Line one\r\nLine two  ")
    assert (entry.question, entry.keywords, entry.answer) == ("How long?", "Delivery, kab tak", "Line one\nLine two")
