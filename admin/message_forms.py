"""Forms of the WhatsApp conversation card. Parsing only; the rules live in checkout/staff/conversation.py."""

import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from checkout.staff.conversation import STAFF_MESSAGE_MAX


def _new_send_key() -> str:
    return uuid.uuid4().hex


class StaffMessageForm(FlaskForm):
    text = TextAreaField(
        "Message to the customer",
        id="staff-message-text",  # the order page has other forms; keep the label's target unique
        render_kw={"rows": 3, "maxlength": STAFF_MESSAGE_MAX},
        validators=[
            DataRequired(message="Write a message first."),
            Length(max=STAFF_MESSAGE_MAX, message=f"A WhatsApp message can be at most {STAFF_MESSAGE_MAX} characters."),
        ],
    )
    # Minted when the form is shown: the same form sent twice (a double click, a resend) queues one message.
    send_key = HiddenField(default=_new_send_key)

    def for_template(self, room: int) -> "StaffMessageForm":
        """Bound the box to what fits in the order update template (checked again when sent)."""
        self.text.render_kw = {**self.text.render_kw, "maxlength": room}
        return self

    def request_key(self) -> str:
        """The form's key if it is one we minted, else "" (the domain then makes a fresh one)."""
        value = (self.send_key.data or "").strip().lower()
        try:
            return uuid.UUID(hex=value).hex if len(value) == 32 else ""
        except ValueError:
            return ""
