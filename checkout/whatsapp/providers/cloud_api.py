"""Meta's WhatsApp Business Cloud API: POST /{version}/{phone-number-id}/messages.

HTTP 200 means Meta *accepted* the message; delivery (and some failures, 131047 among them)
arrive later as status webhooks. Errors are sorted by code into retry-later and give-up.
"""

import requests
import urllib3

from checkout.whatsapp.providers.base import Provider, SendFailed

RETRYABLE_CODES = {4, 80007, 130429, 131016, 131056, 131057, 1, 2}
PERMANENT_CODES = {0, 190, 368, 131009, 131026, 131030, 131031, 131047, 132000, 132001, 132005}

_session = requests.Session()  # one connection pool per process, reused for every send


class CloudApiProvider(Provider):
    name = "cloud"

    def __init__(self, graph_url: str, version: str, phone_number_id: str, access_token: str, timeout: float):
        self.url = f"{graph_url}/{version}/{phone_number_id}/messages"
        self.media_url = f"{graph_url}/{version}/{phone_number_id}/media"
        self.access_token = access_token
        self.timeout = timeout

    @classmethod
    def from_config(cls, config) -> "CloudApiProvider":
        if not config["WHATSAPP_ACCESS_TOKEN"] or not config["WHATSAPP_PHONE_NUMBER_ID"]:
            raise SendFailed(None, "WhatsApp Cloud API is not configured (token or phone number id missing)", False)
        return cls(
            config["WHATSAPP_GRAPH_URL"],
            config["WHATSAPP_API_VERSION"],
            config["WHATSAPP_PHONE_NUMBER_ID"],
            config["WHATSAPP_ACCESS_TOKEN"],
            config["WHATSAPP_SEND_TIMEOUT"],
        )

    def send(self, to_digits: str, payload: dict, tracking_key: str) -> str:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to_digits,
            # Echoed back on status webhooks: lets us recognise a send that timed out but went through.
            "biz_opaque_callback_data": tracking_key,
            **payload,
        }
        try:
            response = _session.post(
                self.url,
                json=body,
                headers={"Authorization": f"Bearer {self.access_token}"},
                timeout=(min(5.0, self.timeout), self.timeout),
            )
        except requests.ConnectTimeout:
            raise SendFailed(None, "Could not reach WhatsApp: ConnectTimeout", retryable=True) from None
        except requests.Timeout:
            raise SendFailed(None, "WhatsApp did not answer in time", retryable=True, in_doubt=True) from None
        except requests.ConnectionError as error:
            # Dropped after the request went out (not refused before): Meta may have accepted it.
            sent = bool(error.args) and isinstance(error.args[0], urllib3.exceptions.ProtocolError)
            raise SendFailed(
                None, f"Could not reach WhatsApp: {error.__class__.__name__}", retryable=True, in_doubt=sent
            ) from None
        except requests.RequestException as error:
            raise SendFailed(None, f"Could not reach WhatsApp: {error.__class__.__name__}", retryable=True) from None
        return self._read(response)

    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """POST /{phone-number-id}/media (multipart): Meta keeps the file and answers its id, sent by id after.

        Nothing reaches the customer yet, so any failure here, a timeout included, is simply tried again.
        """
        try:
            response = _session.post(
                self.media_url,
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, data, mime_type)},
                headers={"Authorization": f"Bearer {self.access_token}"},
                timeout=(min(5.0, self.timeout), self.timeout),
            )
        except requests.RequestException as error:
            raise SendFailed(
                None, f"Could not upload to WhatsApp: {error.__class__.__name__}", retryable=True
            ) from None
        try:
            return self._read(response, answer="id")
        except SendFailed as failed:
            raise SendFailed(
                failed.code, f"Could not upload the file: {failed.title}"[:280], failed.retryable
            ) from None

    @staticmethod
    def _read(response: requests.Response, answer: str = "message") -> str:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.ok and answer == "id":
            if isinstance(data.get("id"), str) and data["id"]:
                return data["id"]
            raise SendFailed(None, "WhatsApp took the file but returned no media id", retryable=True)
        if response.ok:
            messages = data.get("messages") or []
            if messages and messages[0].get("id"):
                return messages[0]["id"]
            raise SendFailed(None, "WhatsApp accepted the request but returned no message id", retryable=False)
        error = data.get("error") or {}
        code = error.get("code")
        details = (error.get("error_data") or {}).get("details") or error.get("message") or response.reason
        title = f"{details}"[:280]
        if code in PERMANENT_CODES:
            return _raise(code, title, retryable=False)
        retryable = code in RETRYABLE_CODES or response.status_code >= 500 or response.status_code == 429
        return _raise(code, title, retryable=retryable)


def _raise(code, title, retryable):
    raise SendFailed(code, title, retryable=retryable)
