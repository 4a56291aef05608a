"""Sending a WhatsApp message: one interface, chosen by WHATSAPP_PROVIDER.

sandbox  (default) messages stay in our database and show in the /sandbox simulator
cloud    Meta's WhatsApp Business Cloud API
off      nothing is sent (the click-to-chat handoff still works)
"""

from flask import current_app

from checkout.whatsapp.providers.base import Provider, SendFailed
from checkout.whatsapp.providers.cloud_api import CloudApiProvider
from checkout.whatsapp.providers.sandbox import SandboxProvider

__all__ = ["Provider", "SendFailed", "get_provider", "messaging_enabled"]


def messaging_enabled() -> bool:
    return current_app.config["WHATSAPP_PROVIDER"] in ("sandbox", "cloud")


def get_provider() -> Provider:
    mode = current_app.config["WHATSAPP_PROVIDER"]
    if mode == "cloud":
        return CloudApiProvider.from_config(current_app.config)
    if mode == "sandbox":
        return SandboxProvider()
    raise SendFailed(None, "WhatsApp messaging is off (WHATSAPP_PROVIDER=off)", retryable=False)
