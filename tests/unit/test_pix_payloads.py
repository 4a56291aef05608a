"""Pix BR Code "copia e cola" payloads: decoded field by field, the CRC checked by an implementation of our own."""

import pytest

from checkout.models.store import StoreSettings
from checkout.payments.pix import InvalidPixRequest, normalised_key, normalised_text, pix_payload
from checkout.payments.providers import ProviderNotConfigured, provider_named

# The static example in BCB's BR Code manual (random key, no amount, no transaction id): a published value
# our builder must reproduce byte for byte, CRC 1D3D included.
BCB_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written independently: table-driven, poly 0x1021, init 0xFFFF."""
    table = []
    for index in range(256):
        value = index << 8
        for _ in range(8):
            value = (value << 1) ^ 0x1021 if value & 0x8000 else value << 1
        table.append(value & 0xFFFF)
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc


def decode(payload: str) -> dict[str, str]:
    """ID-length-value fields, in order; fails if a length runs past the end."""
    fields, position = {}, 0
    while position < len(payload):
        field_id, length = payload[position : position + 2], int(payload[position + 2 : position + 4])
        value = payload[position + 4 : position + 4 + length]
        assert len(value) == length, f"field {field_id} is cut short"
        assert field_id not in fields, f"field {field_id} twice"
        fields[field_id] = value
        position += 4 + length
    return fields


def test_our_crc_reference_gives_the_standard_check_value():
    assert crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE's catalogued check value


def test_bcb_published_example_is_reproduced_exactly():
    built = pix_payload(
        key="123e4567-e12b-12d1-a456-426655440000",
        merchant_name="Fulano de Tal",
        merchant_city="BRASILIA",
        amount_minor=None,
        txid="***",
    )
    assert built == BCB_EXAMPLE
    assert f"{crc16(BCB_EXAMPLE[:-4].encode()):04X}" == "1D3D"


def test_payload_with_amount_decodes_field_by_field_and_its_crc_holds():
    payload = pix_payload(
        key="loja@example.com.br",
        merchant_name="Padaria São João",
        merchant_city="São Paulo",
        amount_minor=1250,
        txid="K7QXM4PZP1",
    )
    fields = decode(payload)
    assert list(fields) == ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert fields["00"] == "01"
    assert decode(fields["26"]) == {"00": "br.gov.bcb.pix", "01": "loja@example.com.br"}
    assert (fields["52"], fields["53"], fields["54"], fields["58"]) == ("0000", "986", "12.50", "BR")
    assert fields["59"] == "Padaria Sao Joao" and fields["60"] == "Sao Paulo"
    assert decode(fields["62"]) == {"05": "K7QXM4PZP1"}
    assert payload[-8:-4] == "6304"
    assert fields["63"] == f"{crc16(payload[:-4].encode('ascii')):04X}"
    assert payload.isascii()


def test_long_names_and_cities_are_cut_to_the_spec_limits():
    payload = pix_payload(
        key="12345678901",
        merchant_name="Comércio de Roupas e Acessórios Ltda",
        merchant_city="Santa Bárbara d'Oeste",
        amount_minor=100,
        txid="***",
    )
    fields = decode(payload)
    assert len(fields["59"]) <= 25 and fields["59"] == "Comercio de Roupas e Aces"
    assert len(fields["60"]) <= 15 and fields["60"] == "Santa Barbara d"
    assert fields["63"] == f"{crc16(payload[:-4].encode()):04X}"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("123.456.789-01", "12345678901"),
        ("12.345.678/0001-95", "12345678000195"),
        ("Loja@Example.com", "loja@example.com"),
        ("+55 (11) 98765-4321", "+5511987654321"),
        ("123E4567-E12B-12D1-A456-426655440000", "123e4567-e12b-12d1-a456-426655440000"),
        ("not a key", None),
        ("12345", None),
    ],
)
def test_keys_take_the_form_the_directory_holds(raw, normal):
    assert normalised_key(raw) == normal


def test_text_normalisation_keeps_only_what_the_code_allows():
    assert normalised_text("  Açaí   do  Zé 😀 ", 25) == "Acai do Ze"
    assert normalised_text("東京", 25) == ""


@pytest.mark.parametrize(
    "bad",
    [dict(txid="K7QX-M4PZ"), dict(txid="X" * 26), dict(amount_minor=0), dict(merchant_name="東京"), dict(key="x")],
)
def test_a_payload_that_would_break_the_spec_is_refused(bad):
    arguments = dict(key="12345678901", merchant_name="Loja", merchant_city="Recife", amount_minor=100, txid="T1")
    with pytest.raises(InvalidPixRequest):
        pix_payload(**{**arguments, **bad})


def test_provider_returns_the_code_as_qr_payload_without_a_url(app_context):
    settings = StoreSettings(pix_key="loja@example.com", pix_merchant_name="Loja", pix_merchant_city="Recife")
    provider = provider_named("pix", settings)
    assert provider.confirms_automatically is False

    class Order:
        reference = "K7QX-M4PZ"

    link = provider.request(Order(), 9990, "BRL", reference="K7QXM4PZP1")
    assert link.url == "" and link.provider_reference == "K7QXM4PZP1"
    assert decode(link.qr_payload)["54"] == "99.90"
    with pytest.raises(ProviderNotConfigured):
        provider.request(Order(), 9990, "INR", reference="K7QXM4PZP1")
