"""Payment receipts: what one receipt says (receipt.py), as a PDF (pdf.py), as a WhatsApp caption (summary.py)
and the one document message per payment (message.py)."""
