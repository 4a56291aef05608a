"""A payment receipt as a PDF: the shop's letterhead, the order's lines and totals, the payment and the customer.

Names and addresses come in any script, often several in one line ("राहुल 😀 محمد"): the Noto fonts in fonts/
are each other's fallback and HarfBuzz shapes the text (joined Arabic, Devanagari conjuncts), so every
character prints as the customer typed it. fpdf2 embeds only the glyphs used, so a receipt stays small.
"""

import gc
from pathlib import Path

from flask import current_app, has_app_context
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from fpdf.errors import FPDFException

from checkout.models.orders import Order, Payment
from checkout.models.store import StoreSettings
from checkout.receipts.receipt import Receipt, build_receipt, receipt_filename, receipt_number
from checkout.web.urls import status_url

FONTS = Path(__file__).parent / "fonts"
MAIN_FONT = "NotoSans"
FALLBACK_FONTS = {
    "NotoSansDevanagari": "NotoSansDevanagari-Regular.ttf",
    "NotoNaskhArabic": "NotoNaskhArabic-Regular.ttf",
    "NotoColorEmoji": "NotoColorEmoji-Subset.ttf",
}
LINE = 5.5  # mm, for 10 pt text
GREY = (95, 95, 95)
# Item, quantity, unit price, amount: widths in mm of the 180 mm between the margins.
COLUMNS = (92, 16, 34, 38)


class _ReceiptDocument(FPDF):
    """fpdf2 2.8.9, with every printed line naming its own font.

    fpdf2 treats a font switched to inside a line (a fallback font for "दिल्ली") as lasting only to the end of
    that line, but in PDF it lasts: the next line of the same paragraph would print Latin letters with the
    Devanagari font's glyph numbers ("Size" came out as "Ttyu"). Forgetting that a font is set makes fpdf2
    name the first fragment's font at the start of each line, inside the line's own text object.
    """

    def _render_styled_text_line(self, *args, **kwargs):
        self.current_font_is_set_on_page = False
        kwargs["prevent_font_change"] = True  # the font named stays inside the line: the page's font is untouched
        return super()._render_styled_text_line(*args, **kwargs)


def receipt_pdf(order: Order, payment: Payment, settings: StoreSettings) -> bytes:
    """The receipt for one of `order`'s payments as PDF bytes."""
    static_folder = current_app.static_folder if has_app_context() else None
    receipt = build_receipt(order, payment, settings, status_url=status_url(order), static_folder=static_folder)
    return render_receipt(receipt)


def receipt_download(order: Order, payment: Payment, settings: StoreSettings) -> tuple[bytes, dict[str, str]]:
    """The PDF and the headers that make it a download, kept out of every cache (it names the customer)."""
    headers = {
        "Content-Type": "application/pdf",
        "Content-Disposition": f'attachment; filename="{receipt_filename(receipt_number(order, payment))}"',
        "Cache-Control": "no-store",
    }
    return receipt_pdf(order, payment, settings), headers


def render_receipt(receipt: Receipt) -> bytes:
    pdf = _new_document(receipt)
    _letterhead(pdf, receipt)
    _heading(pdf, receipt)
    _customer(pdf, receipt)
    _lines(pdf, receipt)
    _totals(pdf, receipt)
    _payment(pdf, receipt)
    _closing(pdf, receipt)
    body = bytes(pdf.output())
    # fpdf2's parsed fonts hold each other in reference cycles: about 3 MB a receipt that would wait for the next
    # full collection, and a few receipts' worth add up in a worker (issue 18's memory budget). The collection
    # is cheap: wsgi.py leaves what was loaded at start out of it.
    del pdf
    gc.collect()
    return body


def _new_document(receipt: Receipt) -> _ReceiptDocument:
    pdf = _ReceiptDocument(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"Receipt {receipt.number}")
    pdf.set_author(receipt.shop_name)
    pdf.set_creator("Chatout")
    pdf.add_font(MAIN_FONT, "", FONTS / "NotoSans-Regular.ttf")
    pdf.add_font(MAIN_FONT, "B", FONTS / "NotoSans-Bold.ttf")
    for family, filename in FALLBACK_FONTS.items():
        pdf.add_font(family, "", FONTS / filename)
    # exact_match=False: bold text falls back to the regular face of another script rather than to nothing.
    pdf.set_fallback_fonts(list(FALLBACK_FONTS), exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()
    return pdf


def _text(pdf: FPDF, text: str, *, size: float = 10, bold: bool = False, grey: bool = False, align: str = "L"):
    if not text:
        return
    pdf.set_font(MAIN_FONT, "B" if bold else "", size)
    pdf.set_text_color(*(GREY if grey else (0, 0, 0)))
    pdf.multi_cell(0, LINE * size / 10, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _pairs(pdf: FPDF, pairs: list[tuple[str, str]], *, label_width: float = 45, bold_last: bool = False):
    """Label and value rows; a value may wrap onto more lines under itself."""
    shown = [(label, value) for label, value in pairs if value]
    for index, (label, value) in enumerate(shown):
        bold = bold_last and index == len(shown) - 1
        pdf.set_font(MAIN_FONT, "B" if bold else "", 10)
        pdf.set_text_color(*GREY)
        pdf.cell(label_width, LINE, label)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _letterhead(pdf: FPDF, receipt: Receipt) -> None:
    if receipt.logo_path is not None:
        try:
            pdf.image(str(receipt.logo_path), x=pdf.l_margin, y=pdf.t_margin, h=16)
            pdf.set_y(pdf.t_margin + 19)
        except (OSError, ValueError, FPDFException):
            pass  # a broken logo file loses the logo, never the receipt
    _text(pdf, receipt.shop_name, size=16, bold=True)
    _text(pdf, receipt.shop_tagline, grey=True)
    _text(pdf, receipt.shop_address, grey=True)
    if receipt.tax_number:
        _text(pdf, f"Tax number: {receipt.tax_number}", grey=True)
    pdf.ln(4)


def _heading(pdf: FPDF, receipt: Receipt) -> None:
    _text(pdf, "Payment receipt", size=14, bold=True)
    _pairs(
        pdf,
        [
            ("Receipt number", receipt.number),
            ("Paid on", receipt.paid_at),
            ("Order", receipt.order_reference),
            ("Ordered on", receipt.ordered_at),
        ],
    )
    pdf.ln(3)


def _customer(pdf: FPDF, receipt: Receipt) -> None:
    _text(pdf, "Customer", size=11, bold=True)
    _pairs(
        pdf,
        [("Name", receipt.customer_name), ("Phone", receipt.customer_phone), ("Address", receipt.customer_address)],
    )
    pdf.ln(3)


def _lines(pdf: FPDF, receipt: Receipt) -> None:
    # Drawn row by row rather than with fpdf2's table(): its cells lose the fallback fonts on a second line.
    _row(pdf, ("Item", "Qty", "Unit price", "Amount"), bold=True)
    for line in receipt.lines:
        item = f"{line.name}\n{line.options}" if line.options else line.name
        _row(pdf, (item, str(line.quantity), line.unit_price, line.line_total))
    pdf.ln(2)


def _row(pdf: FPDF, cells: tuple[str, ...], *, bold: bool = False) -> None:
    """One row of the items: the item may wrap; quantity and money stay on its first line, right-aligned."""
    pdf.set_font(MAIN_FONT, "B" if bold else "", 10)
    if pdf.get_y() + 2 * LINE > pdf.page_break_trigger:
        pdf.add_page()
    top, x, bottom = pdf.get_y(), pdf.l_margin, pdf.get_y()
    for index, (width, text) in enumerate(zip(COLUMNS, cells, strict=True)):
        pdf.set_xy(x, top)
        height = pdf.multi_cell(
            width, LINE, text, align="L" if index == 0 else "R", padding=(1, 1), output=MethodReturnValue.HEIGHT
        )
        bottom, x = max(bottom, top + height), x + width
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, bottom, pdf.l_margin + sum(COLUMNS), bottom)
    pdf.set_xy(pdf.l_margin, bottom)


def _totals(pdf: FPDF, receipt: Receipt) -> None:
    _pairs(
        pdf,
        [
            ("Subtotal", receipt.subtotal),
            ("Delivery", receipt.delivery),
            ("Discount", receipt.discount),
            ("Total", receipt.total),
        ],
        label_width=45,
        bold_last=True,
    )
    pdf.ln(3)


def _payment(pdf: FPDF, receipt: Receipt) -> None:
    _text(pdf, "Payment", size=11, bold=True)
    _pairs(
        pdf,
        [
            ("Method", receipt.payment_method),
            ("Reference", receipt.payment_reference),
            ("Amount received", receipt.amount_paid),
            ("Paid to date", receipt.paid_to_date),
            ("Balance due", receipt.balance),
        ],
    )
    pdf.ln(4)


def _closing(pdf: FPDF, receipt: Receipt) -> None:
    _text(pdf, receipt.footer)
    _text(pdf, f"Your order: {receipt.status_url}", size=9, grey=True)
