"""A receipt prints what the customer typed, in any script, and its caption stays within WhatsApp's limit."""

import io
from dataclasses import replace

from pypdf import PdfReader

from checkout.models import get_store_settings
from checkout.orders.desk import record_payment
from checkout.receipts.pdf import receipt_pdf, render_receipt
from checkout.receipts.receipt import build_receipt
from checkout.receipts.summary import CAPTION_MAX, receipt_summary
from tests.admin_helpers import make_staff
from tests.factories import customer, make_coupon, make_order, make_product, make_store
from tests.receipts.test_receipt_logo import PNG

HINDI_NAME = "राहुल शर्मा"
ARABIC_NAME = "محمد"
ADDRESS = "12 गांधी मार्ग, दिल्ली 🏠 شارع الملك"


def _paid_order(lines_of=None, *, name=f"{HINDI_NAME} {ARABIC_NAME} 😀", address=ADDRESS, amount_minor=5000):
    make_store(
        name="Sunrise Store",
        tagline="Tea and spices",
        address="4 Bazaar Lane",
        receipt_tax_number="GSTIN 29ABCDE1234F1Z5",
    )
    product = make_product("मसाला चाय ☕", price_minor=12000, options=[{"Size": "बड़ा"}])
    make_coupon("DIWALI", kind="percent", value=10)
    order = make_order(
        lines_of or [(product.variants[0], 2)], customer(name=name, address=address), coupon_code="DIWALI"
    )
    staff = make_staff()
    record_payment(
        order, method="upi", amount_minor=amount_minor, reference="UPI-778", staff=staff, expected_version=None
    )
    return order, order.payments[-1]


def _text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_receipt_prints_hindi_arabic_and_emoji_names_addresses_and_items(app_context):
    order, payment = _paid_order()

    pdf = receipt_pdf(order, payment, get_store_settings())

    assert pdf.startswith(b"%PDF-")
    text = _text_of(pdf)
    # Words whose shaped glyphs map back to their letters in order ("दिल्ली" prints right but reads back with
    # its vowel sign moved, as in most PDF readers' copy and paste).
    for word in ("राहुल", "शर्मा", "محمد", "गांधी", "मार्ग", "شارع", "الملك", "मसाला", "चाय", "बड़ा", "😀", "☕"):
        assert word in text, word
    # A Latin line after one ending in Devanagari keeps its own font (fpdf2 printed "Ttyu" here).
    assert "Size बड़ा" in text
    for expected in ("Sunrise Store", "GSTIN 29ABCDE1234F1Z5", order.reference, "UPI-778", "DIWALI", "+919876543210"):
        assert expected in text, expected


def test_receipt_shows_this_payment_and_the_balance_left_after_it(app_context):
    order, payment = _paid_order(amount_minor=5000)
    staff = make_staff("manager")
    record_payment(order, method="cash", amount_minor=1000, reference="", staff=staff, expected_version=None)

    first = build_receipt(order, payment, get_store_settings(), status_url="https://shop.example/o/x")

    # 2 × ₹120 = ₹240, less 10 % (₹24), plus ₹50 delivery = ₹266; ₹50 paid on this receipt.
    assert (first.total, first.amount_paid, first.paid_to_date, first.balance) == (
        "₹266.00",
        "₹50.00",
        "₹50.00",
        "₹216.00",
    )
    assert first.number == f"{order.reference}-1"
    assert first.filename == f"Receipt-{order.reference}-1.pdf"
    second = build_receipt(order, order.payments[-1], get_store_settings(), status_url="https://shop.example/o/x")
    assert (second.number, second.paid_to_date, second.balance) == (f"{order.reference}-2", "₹60.00", "₹206.00")


def test_summary_of_a_long_order_stops_at_1024_characters_with_an_ellipsis_and_the_status_link(app_context):
    make_store()
    products = [
        make_product(f"Hand-block printed cotton kurta with mirror work, design {n}", stock=50) for n in range(40)
    ]
    order, payment = _paid_order([(product.variants[0], 1) for product in products], amount_minor=1000)
    receipt = build_receipt(order, payment, get_store_settings(), status_url="https://shop.example/o/token123")

    summary = receipt_summary(receipt)

    assert len(summary) <= CAPTION_MAX
    assert summary.endswith("…\nhttps://shop.example/o/token123")
    assert summary.startswith(f"*Receipt {order.reference}-1*")


def test_summary_of_a_short_order_is_whole(app_context):
    order, payment = _paid_order()
    receipt = build_receipt(order, payment, get_store_settings(), status_url="https://shop.example/o/token123")

    summary = receipt_summary(receipt)

    assert "…" not in summary
    assert "2 × मसाला चाय ☕ (Size बड़ा): ₹240.00" in summary
    assert "Discount: −₹24.00 (code DIWALI)" in summary
    assert summary.endswith("https://shop.example/o/token123")


def test_the_shops_logo_is_drawn_and_a_broken_logo_file_only_loses_the_logo(app_context, tmp_path):
    order, payment = _paid_order()
    receipt = build_receipt(order, payment, get_store_settings(), status_url="https://shop.example/o/x")
    logo, broken = tmp_path / "logo.png", tmp_path / "broken.png"
    logo.write_bytes(PNG)
    broken.write_bytes(b"not a picture")

    images = lambda pdf: pdf.count(b"/Subtype /Image")  # noqa: E731  (the colour emoji are pictures too)
    plain = images(render_receipt(replace(receipt, logo_path=None)))

    assert images(render_receipt(replace(receipt, logo_path=logo))) > plain  # the logo (and its transparency)
    without_logo = render_receipt(replace(receipt, logo_path=broken))
    assert images(without_logo) == plain and "Sunrise Store" in _text_of(without_logo)
