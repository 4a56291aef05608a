"""Forms of the order desk. Parsing only; the rules live in checkout/orders/desk.py.

The tracking fields carry their limits as `maxlength` hints for the browser; the desk checks them.
"""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from checkout.models.returns import STAFF_NOTE_MAX
from checkout.money import MAX_AMOUNT_TEXT
from checkout.orders.delivery import AGENT_NAME_MAX
from checkout.orders.desk import FULFILMENT_FIELD_MAX, NOTE_MAX, PAYMENT_RECORD_METHODS
from checkout.orders.lifecycle import OrderStatus
from checkout.web.integer_input import ID_MAX


class VersionInput(HiddenInput):
    """The order version a form was drawn from: hidden, and without an id.

    Several forms on the order page carry it, so a shared `id="version"` would repeat; nothing labels it.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", False)  # False leaves the attribute out
        return super().__call__(field, **kwargs)


class VersionedForm(FlaskForm):
    version = IntegerField(widget=VersionInput(), validators=[InputRequired(), NumberRange(0, ID_MAX)])


class StatusForm(VersionedForm):
    target = SelectField(choices=[SelectChoice(s.value, s.label) for s in OrderStatus], validators=[InputRequired()])
    note = TextAreaField("Reason", validators=[Optional(), Length(max=500)])
    carrier = StringField("Carrier", render_kw={"maxlength": FULFILMENT_FIELD_MAX["carrier"]})
    tracking_number = StringField("Tracking number", render_kw={"maxlength": FULFILMENT_FIELD_MAX["tracking_number"]})
    tracking_url = StringField("Tracking link", render_kw={"maxlength": FULFILMENT_FIELD_MAX["tracking_url"]})
    # Cancelling a paid order: refund the money now, or keep it for now. Empty when nothing was paid.
    refund = StringField("Money paid", validators=[Optional(), AnyOf(("refund", "keep"))])

    @property
    def refund_paid(self) -> bool | None:
        return {"refund": True, "keep": False}.get(self.refund.data or "")


class AddressChangeForm(VersionedForm):
    """Staff's decision on the new address a customer typed after a failed delivery."""

    decision = StringField(validators=[InputRequired(), AnyOf(("approve", "reject"))])
    reason = StringField("Why not (the customer is told)", validators=[Optional(), Length(max=200)])


class FulfilmentForm(VersionedForm):
    carrier = StringField("Carrier", render_kw={"maxlength": FULFILMENT_FIELD_MAX["carrier"]})
    tracking_number = StringField("Tracking number", render_kw={"maxlength": FULFILMENT_FIELD_MAX["tracking_number"]})
    tracking_url = StringField("Tracking link", render_kw={"maxlength": FULFILMENT_FIELD_MAX["tracking_url"]})
    expected_delivery_date = DateField("Expected delivery", validators=[Optional()])
    # The window is typed in the shop's time zone; the view turns it into two moments.
    delivery_day = DateField("Delivery window: day", validators=[Optional()])
    window_from = TimeField("Window from", validators=[Optional()])
    window_until = TimeField("Window until", validators=[Optional()])
    delivery_agent_name = StringField("Delivery agent", render_kw={"maxlength": AGENT_NAME_MAX})
    delivery_agent_phone = StringField("Delivery agent's phone", render_kw={"maxlength": 32, "inputmode": "tel"})


class AssignForm(VersionedForm):
    assignee = SelectField("Assigned to", validators=[Optional()])


class NoteForm(FlaskForm):
    note = TextAreaField(
        "Internal note", validators=[DataRequired(message="Write something first."), Length(max=NOTE_MAX)]
    )


class PaymentForm(VersionedForm):
    method = SelectField(
        "Method", choices=[SelectChoice(k, v) for k, v in PAYMENT_RECORD_METHODS.items()], validators=[InputRequired()]
    )
    amount = StringField(
        "Amount", validators=[DataRequired(message="Enter the amount received."), Length(max=MAX_AMOUNT_TEXT)]
    )
    reference = StringField("Reference (UPI / bank ref)", validators=[Optional(), Length(max=120)])


class RefundForm(VersionedForm):
    # The payment the money goes back from; its choices are the order's refundable payments (set by the view).
    payment = SelectField("Refund from", validate_choice=False, validators=[Optional()])
    amount = StringField(
        "Amount to refund",
        validators=[DataRequired(message="Enter the amount to refund."), Length(max=MAX_AMOUNT_TEXT)],
    )
    reason = StringField(
        "Reason for the refund",
        validators=[DataRequired(message="Say why the money is refunded."), Length(max=120)],
    )


class ApproveReturnForm(FlaskForm):
    instructions = TextAreaField(
        "How to send it back (the customer reads this)",
        validators=[Optional(), Length(max=STAFF_NOTE_MAX)],
        render_kw={"maxlength": STAFF_NOTE_MAX, "rows": 2},
    )


class RejectReturnForm(FlaskForm):
    reason = TextAreaField(
        "Why not (the customer reads this)",
        validators=[DataRequired(message="Give the reason the customer will read."), Length(max=STAFF_NOTE_MAX)],
        render_kw={"maxlength": STAFF_NOTE_MAX, "rows": 2},
    )


class ReturnStepForm(FlaskForm):
    """A return step with nothing to type ("received"): the CSRF token only."""


class BulkStatusForm(FlaskForm):
    target = SelectField(
        "Mark selected as",
        choices=[
            SelectChoice(s.value, s.label) for s in OrderStatus if s not in (OrderStatus.PENDING, OrderStatus.CANCELLED)
        ],
        validators=[InputRequired()],
    )
