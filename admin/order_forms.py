"""Forms of the order desk. Parsing only; the rules live in checkout/orders/desk.py."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional

from checkout.orders.desk import NOTE_MAX, PAYMENT_RECORD_METHODS
from checkout.orders.lifecycle import OrderStatus


class VersionedForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])


class StatusForm(VersionedForm):
    target = SelectField(choices=[SelectChoice(s.value, s.label) for s in OrderStatus], validators=[InputRequired()])
    note = TextAreaField("Reason", validators=[Optional(), Length(max=500)])
    carrier = StringField("Carrier", validators=[Optional(), Length(max=80)])
    tracking_number = StringField("Tracking number", validators=[Optional(), Length(max=80)])
    tracking_url = StringField("Tracking link", validators=[Optional(), URL(require_tld=False), Length(max=300)])


class FulfilmentForm(VersionedForm):
    carrier = StringField("Carrier", validators=[Optional(), Length(max=80)])
    tracking_number = StringField("Tracking number", validators=[Optional(), Length(max=80)])
    tracking_url = StringField("Tracking link", validators=[Optional(), URL(require_tld=False), Length(max=300)])
    expected_delivery_date = DateField("Expected delivery", validators=[Optional()])


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
    amount = StringField("Amount", validators=[DataRequired(message="Enter the amount received."), Length(max=20)])
    reference = StringField("Reference (UPI / bank ref)", validators=[Optional(), Length(max=120)])


class RefundForm(VersionedForm):
    amount = StringField("Amount", validators=[DataRequired(message="Enter the amount refunded."), Length(max=20)])
    reason = StringField("Reason", validators=[DataRequired(message="Say why the money is refunded."), Length(max=120)])


class BulkStatusForm(FlaskForm):
    target = SelectField(
        "Mark selected as",
        choices=[
            SelectChoice(s.value, s.label) for s in OrderStatus if s not in (OrderStatus.PENDING, OrderStatus.CANCELLED)
        ],
        validators=[InputRequired()],
    )
