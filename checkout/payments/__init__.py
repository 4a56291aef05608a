"""Getting paid: providers (one module each), payment requests and their messages, and the events their
webhooks send.

Importing the package registers every provider module with providers.py's registry.
"""

from checkout.payments import mpesa, pix, razorpay_links, stripe_checkout, upi  # noqa: F401  (each registers itself)
