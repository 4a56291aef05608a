"""UPI intent links as NPCI's linking specification lays them out: upi://pay?pa=…&pn=…&am=…&cu=INR&tr=…&tn=…"""

from urllib.parse import unquote, urlsplit

import pytest

from checkout.models.store import StoreSettings
from checkout.payments.providers import ProviderNotConfigured, provider_named
from checkout.payments.upi import InvalidUpiRequest, UpiProvider, upi_amount, upi_intent_link
from tests.factories import customer, make_order, make_product, make_store


def _fields(link: str) -> list[tuple[str, str]]:
    """Split the query by hand (not parse_qs, which would read '+' as a space and hide an encoding mistake)."""
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("upi", "pay", "")
    return [tuple(pair.split("=", 1)) for pair in parts.query.split("&")]


def test_link_carries_payee_amount_currency_reference_and_note_in_order():
    link = upi_intent_link(
        payee_address="asha.store@okaxis",
        payee_name="Asha's Kurta & Co",
        amount_minor=123450,
        reference="K7QXM4PZP1",
        note="Order K7QX-M4PZ",
    )
    fields = _fields(link)
    assert [key for key, _ in fields] == ["pa", "pn", "am", "cu", "tr", "tn"]
    values = dict(fields)
    assert values["pa"] == "asha.store@okaxis"  # the VPA keeps its @
    assert values["pn"] == "Asha%27s%20Kurta%20%26%20Co"  # & would end the field; space is %20, never +
    assert unquote(values["pn"]) == "Asha's Kurta & Co"
    assert values["am"] == "1234.50"
    assert values["cu"] == "INR"
    assert values["tr"] == "K7QXM4PZP1"
    assert unquote(values["tn"]) == "Order K7QX-M4PZ"


def test_non_latin_payee_names_are_percent_encoded_utf8():
    link = upi_intent_link(
        payee_address="dukaan@ybl", payee_name="कुर्ता घर", amount_minor=100, reference="R1", note="नोट #1 + ?"
    )
    values = dict(_fields(link))
    assert values["pn"].isascii() and unquote(values["pn"]) == "कुर्ता घर"
    assert "#" not in link and "+" not in link and " " not in link
    assert unquote(values["tn"]) == "नोट #1 + ?"


@pytest.mark.parametrize(("minor", "text"), [(1, "0.01"), (100, "1.00"), (99999, "999.99"), (5000000, "50000.00")])
def test_amount_has_exactly_two_decimals(minor, text):
    assert upi_amount(minor) == text


@pytest.mark.parametrize(
    "bad",
    [
        dict(payee_address="not-a-vpa"),
        dict(payee_address="a@b c"),
        dict(amount_minor=0),
        dict(reference=""),
        dict(reference="X" * 36),
    ],
)
def test_a_request_that_breaks_the_format_is_refused(bad):
    arguments = dict(payee_address="shop@upi", payee_name="Shop", amount_minor=100, reference="R1", note="n")
    with pytest.raises(InvalidUpiRequest):
        upi_intent_link(**{**arguments, **bad})


def test_provider_gives_the_link_as_url_and_qr_and_never_confirms_by_itself(app_context):
    make_store(upi_payee_address="shop@okicici", upi_payee_name="Test Shop")
    variant = make_product(price_minor=25000).variants[0]
    order = make_order([(variant, 2)], customer(payment_method="transfer"))
    provider = provider_named("upi")
    assert provider.confirms_automatically is False
    link = provider.request(order, order.total_minor, "INR", reference="ABCDP1")
    assert link.provider == "upi" and link.provider_reference == "ABCDP1"
    assert link.url == link.qr_payload and link.url.startswith("upi://pay?pa=shop@okicici&")
    assert dict(_fields(link.url))["am"] == upi_amount(order.total_minor)


def test_provider_refuses_other_currencies_and_missing_settings():
    with pytest.raises(ProviderNotConfigured):
        UpiProvider("shop@upi", "Shop").request(None, 100, "USD", reference="R1")
    with pytest.raises(ProviderNotConfigured):
        provider_named("upi", StoreSettings(upi_payee_address="", upi_payee_name="Shop"))
