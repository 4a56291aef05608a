"""A receipt in a few lines of text: the caption under the PDF in WhatsApp (Meta allows 1,024 characters).

A long order keeps its first lines whole and ends with "…" and the status link, where the rest is.
"""

from checkout.receipts.receipt import Receipt

CAPTION_MAX = 1024
ELLIPSIS = "…"


def receipt_summary(receipt: Receipt, limit: int = CAPTION_MAX) -> str:
    """At most `limit` characters; cut at a line, with "…" and the status link when everything doesn't fit."""
    lines = _summary_lines(receipt)
    full = "\n".join(lines)
    if len(full) <= limit:
        return full
    tail = f"{ELLIPSIS}\n{receipt.status_url}"
    room = limit - len(tail) - 1  # the new line before the tail
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > room:
            break
        kept.append(line)
    if not kept:  # even the first line is too long: cut inside it
        return (lines[0][: max(0, limit - len(tail))] + tail)[:limit]
    return "\n".join(kept) + "\n" + tail


def _summary_lines(receipt: Receipt) -> list[str]:
    reference = f", ref {receipt.payment_reference}" if receipt.payment_reference else ""
    lines = [
        f"*Receipt {receipt.number}* · {receipt.shop_name}",
        f"Received {receipt.amount_paid} ({receipt.payment_method}{reference}) on {receipt.paid_at}.",
        f"Order {receipt.order_reference}: total {receipt.total}, paid {receipt.paid_to_date}, "
        f"balance {receipt.balance}.",
        "",
    ]
    for line in receipt.lines:
        options = f" ({line.options})" if line.options else ""
        lines.append(f"{line.quantity} × {line.name}{options}: {line.line_total}")
    if receipt.delivery:
        lines.append(f"Delivery: {receipt.delivery}")
    if receipt.discount:
        lines.append(f"Discount: {receipt.discount}")
    if receipt.footer:
        lines += ["", receipt.footer]
    lines += ["", receipt.status_url]
    return lines
