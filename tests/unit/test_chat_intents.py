"""Reading a customer's WhatsApp text: words, spellings, typos, and what the message asks for, in English,
Hinglish, Hindi, Swahili and Portuguese."""

import pytest

from checkout.whatsapp.customer_text import (
    ALL_STOP_WORDS,
    STOP_WORDS,
    content_words,
    edit_distance,
    same_word,
    spelling_key,
    words,
)
from checkout.whatsapp.intents import (
    language_of,
    wants_a_person,
    wants_to_order,
    wants_to_return,
    wants_to_stop_ordering,
)


def test_words_drop_case_latin_accents_and_apostrophes_but_keep_indic_vowel_signs():
    assert words("Don't, VOCÊ!! quero-pedir") == ["dont", "voce", "quero", "pedir"]
    assert words("मुझे चाय चाहिए") == ["मुझे", "चाय", "चाहिए"]
    assert words("") == []


def test_filler_words_of_every_language_are_dropped_and_numbers_too():
    assert content_words("mujhe 2 chai chahiye") == ["chai"]
    assert content_words("I want to order a masala tea please") == ["masala", "tea"]
    assert content_words("nataka chai tafadhali") == ["chai"]
    assert content_words("quero pedir um tapete") == ["tapete"]
    assert content_words("मुझे चाय चाहिए") == ["चाय"]
    assert set(STOP_WORDS) == {"en", "hinglish", "hi", "sw", "pt"}
    assert not {"chai", "tea", "kurta", "kurti", "tawa", "masala", "saree"} & ALL_STOP_WORDS


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("tawaa", "tawa"),
        ("tava", "tawa"),
        ("kurtee", "kurti"),
        ("chaay", "chai"),
        ("chay", "chai"),
        ("kurtha", "kurta"),
    ],
)
def test_hinglish_spellings_of_one_word_share_a_key(one, other):
    assert spelling_key(one) == spelling_key(other)


@pytest.mark.parametrize(
    ("typed", "known", "same"),
    [
        ("darjeling", "darjeeling", True),
        ("bottel", "bottle", True),  # two letters swapped
        ("dupata", "dupatta", True),
        ("kurti", "kurta", True),
        ("tea", "tee", False),  # three letters: no typo allowed
        ("tea", "toe", False),
        ("sari", "dari", False),  # a short word keeps its first letter
        ("basket", "jacket", False),
        ("saffron", "safron", True),
        ("chai", "chair", True),
    ],
)
def test_typos_are_forgiven_by_word_length(typed, known, same):
    assert same_word(typed, known) is same


def test_edit_distance_counts_a_swap_as_one_and_stops_past_the_limit():
    assert edit_distance("botel", "botle", 2) == 1
    assert edit_distance("kitten", "sitting", 3) == 3
    assert edit_distance("kitten", "sitting", 1) == 2  # limit + 1
    assert edit_distance("a", "abcdef", 2) == 3


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hi!",
        "hiii",
        "Hello",
        "hey there",
        "menu",
        "Menu please",
        "MENU",
        "order",
        "I want to order",
        "i want to order something",
        "I would like to order",
        "i wnat to oder",
        "I'd like to place an order",
        "can I place an order?",
        "new order",
        "order karna hai",
        "Order krna h",
        "mujhe order karna hai",
        "order dena hai bhaiya",
        "namaste ji",
        "kya kya milega?",
        "ऑर्डर करना है",
        "nataka kuagiza",
        "Ninataka kuagiza tafadhali",
        "habari",
        "quero pedir",
        "Quero fazer um pedido",
        "olá",
        "oi, gostaria de pedir",
        "what do you sell?",
    ],
)
def test_start_phrases_want_to_order(text):
    assert wants_to_order(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "👍",
        "where is my order",
        "hi, where is my order?",
        "mera order kahan hai",
        "order status",
        "cadê meu pedido",
        "oda yangu iko wapi",
        "hi, do you deliver to Pune?",
        "I paid by UPI",
        "cancel",
        "I don't want to order",
        "talk to a person",
        "mujhe chai chahiye",  # a product: product matching starts this one
        "thanks",
    ],
)
def test_other_messages_do_not_start_an_order(text):
    assert not wants_to_order(text)


@pytest.mark.parametrize(
    "text",
    [
        "talk to a person",
        "Can I talk to someone?",
        "I want to speak to a human",
        "agent",
        "AGENT please",
        "real person pls",
        "customer care",
        "call me",
        "insaan se baat karni hai",
        "kisi insan se baat karao",
        "owner se baat karni hai",
        "इंसान से बात करनी है",
        "nataka kuongea na mtu",
        "quero falar com uma pessoa",
        "atendente",
    ],
)
def test_asking_for_a_person(text):
    assert wants_a_person(text)


@pytest.mark.parametrize("text", ["hi", "menu", "chai", "do you support cash on delivery?", "humidifier", "personal"])
def test_not_asking_for_a_person(text):
    assert not wants_a_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "cancel",
        "Cancel!",
        "cancel please",
        "cancle",
        "stop",
        "STOP ordering",
        "stop the order",
        "exit",
        "never mind",
        "I don't want to order",
        "rehne do",
        "nahi chahiye",
        "band karo",
        "sitaki",
        "ghairi",
        "não quero mais",
        "cancelar",
    ],
)
def test_leaving_the_order(text):
    assert wants_to_stop_ordering(text)


@pytest.mark.parametrize("text", ["shop", "sari", "quilt", "cancel the tiffin", "chai", "hi", "stopper", "menu"])
def test_not_leaving_the_order(text):
    assert not wants_to_stop_ordering(text)


@pytest.mark.parametrize(
    "text, language",
    [
        ("I want to order", "en"),
        ("order karna hai", "hinglish"),
        ("mujhe chai chahiye", "hinglish"),
        ("ऑर्डर करना है", "hinglish"),
        ("nataka kuagiza", "sw"),
        ("quero pedir", "pt"),
        ("hi", None),
        ("menu", None),
        ("Masala Tea", None),
    ],
)
def test_the_language_of_a_starting_message_is_read_from_its_words(text, language):
    assert language_of(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "problem",
        "Return",
        "damaged!",
        "return please",
        "there is a problem with my order",
        "the item is damaged",
        "I got the wrong item",
        "I want to return this",
        "kharab hai",
        "wapas karna hai",
        "खराब है",
        "tatizo",
        "nataka kurudisha",
        "imeharibika",
        "quero devolver",
        "veio quebrado",
        "problema",
    ],
)
def test_something_wrong_with_an_order_starts_a_return(text):
    assert wants_to_return(text)


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "what is your return policy?",
        "where is my order",
        "no problem",
        "No problem, thanks for the quick delivery",
        "hakuna tatizo",
        "menu",
    ],
)
def test_other_messages_do_not_start_a_return(text):
    assert not wants_to_return(text)
