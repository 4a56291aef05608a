"""Templates go out in the customer's language when the shop has them approved in it, else in the main one."""

import pytest

from checkout.config import whatsapp_config
from checkout.whatsapp.templates import template_language


@pytest.fixture
def shop_app(make_app):
    return make_app(WHATSAPP_TEMPLATE_LANGUAGE="en", WHATSAPP_TEMPLATE_LANGUAGES=("hi", "sw", "pt_BR"))


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ("", "en"),
        ("sw", "sw"),
        ("pt", "pt_BR"),  # an approved regional variant serves the plain language
        ("pt-BR", "pt_BR"),
        ("HI", "hi"),
        ("fr", "en"),  # not approved: the shop's main language
        ("en_GB", "en"),
    ],
)
def test_the_customers_language_is_used_only_where_approved(shop_app, customer, expected):
    with shop_app.app_context():
        assert template_language(customer) == expected


def test_a_shop_with_one_approved_language_sends_every_template_in_it(make_app):
    with make_app(WHATSAPP_TEMPLATE_LANGUAGE="pt_BR").app_context():
        assert template_language("sw") == "pt_BR"
        assert template_language() == "pt_BR"


def test_the_environment_lists_languages_separated_by_commas(monkeypatch, tmp_path):
    monkeypatch.setenv("WHATSAPP_TEMPLATE_LANGUAGES", " hi, sw ,,pt_BR ")
    assert whatsapp_config(tmp_path)["WHATSAPP_TEMPLATE_LANGUAGES"] == ("hi", "sw", "pt_BR")
