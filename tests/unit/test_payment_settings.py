"""The shop's payment settings: which provider, when to ask, and each provider's own fields, checked in one place."""

import pytest

from checkout.models.store import StoreSettings
from checkout.payments.providers import (
    InvalidPaymentSettings,
    UnknownProvider,
    check_payment_settings,
    is_requested_for,
    provider_choices,
    provider_named,
)


def _settings(**fields) -> StoreSettings:
    values = dict(
        currency="INR",
        payment_provider="",
        payment_request_when="on_demand",
        upi_payee_address="",
        upi_payee_name="",
        pix_key="",
        pix_merchant_name="",
        pix_merchant_city="",
        payment_reminder_after_hours=24,
        unpaid_limit_hours=0,
        unpaid_action="flag",
    )
    values.update(fields)
    return StoreSettings(**values)


def test_upi_and_pix_are_registered():
    assert {"upi", "pix"} <= set(provider_choices())
    with pytest.raises(UnknownProvider):
        provider_named("paypal", _settings())


def test_upi_chosen_needs_address_name_and_rupees():
    with pytest.raises(InvalidPaymentSettings) as refused:
        check_payment_settings({"payment_provider": "upi"}, _settings(currency="BRL"))
    assert set(refused.value.errors) == {"upi_payee_address", "upi_payee_name", "payment_provider"}


def test_good_upi_settings_are_cleaned_and_kept():
    values = check_payment_settings(
        {"payment_provider": "upi", "upi_payee_address": " shop@okaxis ", "upi_payee_name": "  Test   Shop "},
        _settings(),
    )
    assert values["upi_payee_address"] == "shop@okaxis" and values["upi_payee_name"] == "Test Shop"
    assert values["payment_request_when"] == "on_demand"


def test_pix_settings_are_normalised_for_the_br_code():
    values = check_payment_settings(
        {
            "payment_provider": "pix",
            "pix_key": "123.456.789-01",
            "pix_merchant_name": "Padaria São João do Centro Histórico",
            "pix_merchant_city": "São José dos Campos",
            "payment_request_when": "staff_confirmed",
        },
        _settings(currency="BRL"),
    )
    assert values["pix_key"] == "12345678901"
    assert values["pix_merchant_name"] == "Padaria Sao Joao do Centr"
    assert values["pix_merchant_city"] == "Sao Jose dos Ca"


def test_a_wrong_field_of_a_provider_not_chosen_is_still_named():
    with pytest.raises(InvalidPaymentSettings) as refused:
        check_payment_settings({"payment_provider": "", "upi_payee_address": "nope", "pix_key": "x"}, _settings())
    assert set(refused.value.errors) == {"upi_payee_address", "pix_key"}


@pytest.mark.parametrize(("field", "value"), [("payment_provider", "bitcoin"), ("payment_request_when", "sometimes")])
def test_unknown_choices_are_refused(field, value):
    with pytest.raises(InvalidPaymentSettings) as refused:
        check_payment_settings({field: value}, _settings())
    assert field in refused.value.errors


class _Order:
    def __init__(self, payment_method="transfer", status="pending", payment_status="unpaid"):
        self.payment_method, self.status, self.payment_status = payment_method, status, payment_status


@pytest.mark.parametrize(
    ("when", "trigger", "asked"),
    [
        ("order_created", "order_created", True),
        ("order_created", "staff_confirmed", False),
        ("staff_confirmed", "staff_confirmed", True),
        ("on_demand", "order_created", False),
        ("on_demand", "staff_confirmed", False),
        ("on_demand", "on_demand", True),
        ("order_created", "on_demand", True),
    ],
)
def test_when_a_request_goes_out(when, trigger, asked):
    assert is_requested_for(_Order(), trigger, _settings(payment_provider="upi", payment_request_when=when)) is asked


def test_cash_on_delivery_no_provider_cancelled_or_paid_are_never_asked():
    settings = _settings(payment_provider="upi", payment_request_when="order_created")
    assert not is_requested_for(_Order(payment_method="cod"), "on_demand", settings)
    assert not is_requested_for(_Order(status="cancelled"), "on_demand", settings)
    assert not is_requested_for(_Order(payment_status="paid"), "on_demand", settings)
    assert not is_requested_for(_Order(), "on_demand", _settings(payment_provider=""))
