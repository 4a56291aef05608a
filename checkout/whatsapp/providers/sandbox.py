"""The sandbox: messages are 'delivered' to the built-in simulator at /sandbox instead of to a phone."""

import secrets

from checkout.whatsapp.media_store import SANDBOX_MEDIA_PREFIX, keep_content
from checkout.whatsapp.providers.base import Provider


class SandboxProvider(Provider):
    name = "sandbox"

    def send(self, to_digits: str, payload: dict, tracking_key: str) -> str:
        # The Message row the outbox is sending is what the simulator shows; all we hand back is
        # an id shaped like Meta's, so status webhooks from the simulator can find it.
        return "wamid.SANDBOX" + secrets.token_hex(12).upper()

    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Kept by content in the media folder, as Meta would keep it: the simulator offers it from there."""
        return SANDBOX_MEDIA_PREFIX + keep_content(data, mime_type)
