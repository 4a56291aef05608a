"""What every provider shares: the interface a send goes through and the error a failed send raises."""

from dataclasses import dataclass


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

    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Hand a file to WhatsApp to send by id (a receipt, say); return its media id."""
        raise SendFailed(None, f"{self.name}: this provider cannot upload files", retryable=False)
