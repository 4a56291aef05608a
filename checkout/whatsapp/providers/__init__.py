"""Sending a WhatsApp message: one interface, chosen by WHATSAPP_PROVIDER.

sandbox  (default) messages stay in our database and show in the /sandbox simulator
cloud    Meta's WhatsApp Business Cloud API
off      nothing is sent (the click-to-chat handoff still works)
"""

from dataclasses import dataclass

from flask import current_app


@dataclass
class SendFailed(Exception):
    """A send that did not go through. `retryable` says whether trying again later may work."""

    code: int | None
    title: str
    retryable: bool
    in_doubt: bool = False  # a timeout: Meta may have accepted it even though we got no answer

    @property
    def window_closed(self) -> bool:
        return self.code == 131047

    def __str__(self) -> str:
        return f"{self.code or '-'}: {self.title}"


class Provider:
    name = "base"

    def send(self, to_digits: str, payload: dict, tracking_key: str) -> str:
        """Send `payload` (a Cloud API message body without the recipient) to `to_digits`; return the wamid."""
        raise NotImplementedError


def messaging_enabled() -> bool:
    return current_app.config["WHATSAPP_PROVIDER"] in ("sandbox", "cloud")


def get_provider() -> Provider:
    mode = current_app.config["WHATSAPP_PROVIDER"]
    if mode == "cloud":
        from checkout.whatsapp.providers.cloud_api import CloudApiProvider

        return CloudApiProvider.from_config(current_app.config)
    if mode == "sandbox":
        from checkout.whatsapp.providers.sandbox import SandboxProvider

        return SandboxProvider()
    raise SendFailed(None, "WhatsApp messaging is off (WHATSAPP_PROVIDER=off)", retryable=False)
