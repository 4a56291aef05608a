"""Order references (read aloud, typed from a phone) and the status-page tokens."""

import re
from urllib.parse import quote

import pytest

from checkout.orders.references import REFERENCE_ALPHABET, find_reference, generate_reference, generate_status_token
from checkout.orders.status_page import TOKEN_MAX

REFERENCE_FORMAT = re.compile(rf"[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}")


def _as_number(reference: str) -> int:
    value = 0
    for char in reference.replace("-", ""):
        value = value * len(REFERENCE_ALPHABET) + REFERENCE_ALPHABET.index(char)
    return value


def test_alphabet_has_no_look_alikes():
    assert len(REFERENCE_ALPHABET) == len(set(REFERENCE_ALPHABET)) == 32
    assert not set("01OI") & set(REFERENCE_ALPHABET)


def test_references_are_two_groups_of_four_from_the_alphabet():
    references = [generate_reference() for _ in range(10_000)]
    for reference in references:
        assert REFERENCE_FORMAT.fullmatch(reference), reference
        assert not set("01OIoi") & set(reference)
    # Every character of the alphabet turns up, and nothing else does.
    assert set("".join(references)) - {"-"} == set(REFERENCE_ALPHABET)


def test_ten_thousand_references_are_all_different_and_not_sequential():
    references = [generate_reference() for _ in range(10_000)]
    assert len(set(references)) == len(references)
    numbers = [_as_number(reference) for reference in references]
    assert numbers != sorted(numbers)
    assert not any(abs(later - earlier) <= 1 for earlier, later in zip(numbers, numbers[1:], strict=False))


@pytest.mark.parametrize(
    "text",
    [
        "K7QX-M4PZ",
        "k7qx-m4pz",
        "K7QXM4PZ",
        "k7qxm4pz",
        "Hi! Where is my order K7QX-M4PZ? Thanks",
        "order #k7qx-m4pz, paid by UPI",
        "ref:K7qX-m4Pz.",
        "Order\nK7QX-M4PZ\nplease confirm",
    ],
)
def test_a_reference_is_found_in_free_text_in_any_case_with_or_without_dash(text):
    assert find_reference(text) == "K7QX-M4PZ"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Where is my order?",
        "Call me on 98765 43210",
        "K7QX-M4P0",  # 0 is not in the alphabet
        "K7QX-M4PI",  # neither is I
        "K7QX-M4P",  # too short
        "K7QXM4PZ9",  # part of a longer code
        "XK7QX-M4PZ",
    ],
)
def test_no_reference_in_the_text_gives_none(text):
    assert find_reference(text) is None


def test_a_dashed_reference_is_found_even_after_an_eight_letter_word():
    assert find_reference("I sent both payments for order k7qx-m4pz") == "K7QX-M4PZ"


def test_status_tokens_are_long_url_safe_and_unique():
    tokens = [generate_status_token() for _ in range(10_000)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert 32 <= len(token) <= TOKEN_MAX
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert quote(token, safe="") == token
