"""Checkout and cart forms. Parsing only: the rules live in checkout/."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from checkout.orders.placing import ADDRESS_MAX, NAME_MAX, NOTE_MAX
from checkout.orders.pricing import MAX_LINE_QUANTITY
from checkout.phones import InvalidPhone, normalise_phone


class AddToCartForm(FlaskForm):
    variant_id = IntegerField(validators=[InputRequired(message="Choose an option.")])
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[
            InputRequired(message="Enter a quantity."),
            NumberRange(min=1, max=MAX_LINE_QUANTITY, message=f"Choose 1 to {MAX_LINE_QUANTITY}."),
        ],
    )


class UpdateCartForm(FlaskForm):
    variant_id = IntegerField(validators=[InputRequired()])
    quantity = IntegerField(
        "Quantity",
        validators=[
            InputRequired(message="Enter a quantity."),
            NumberRange(min=0, max=MAX_LINE_QUANTITY, message=f"Choose 0 to {MAX_LINE_QUANTITY}."),
        ],
    )


class CheckoutForm(FlaskForm):
    name = StringField(
        "Your name", validators=[DataRequired(message="Please tell us your name."), Length(max=NAME_MAX)]
    )
    phone = StringField(
        "WhatsApp number",
        validators=[DataRequired(message="Please enter your WhatsApp number.")],
        description="We'll confirm your order on this number.",
    )
    fulfilment = RadioField(
        "Delivery or pickup",
        choices=[SelectChoice("delivery", "Delivery"), SelectChoice("pickup", "Pickup")],
        validators=[InputRequired(message="Choose delivery or pickup.")],
    )
    address = TextAreaField("Delivery address", validators=[Optional(), Length(max=ADDRESS_MAX)])
    payment_method = RadioField("Payment", validators=[InputRequired(message="Choose how you'll pay.")])
    note = TextAreaField("Note for the shop (optional)", validators=[Optional(), Length(max=NOTE_MAX)])
    checkout_key = HiddenField(validators=[Length(max=64)])
    expected_subtotal = HiddenField()

    def __init__(self, settings, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_region = settings.default_region
        self.payment_method.choices = [SelectChoice(value, label) for value, label in settings.payment_choices]
        if not settings.pickup_enabled:
            self.fulfilment.choices = [SelectChoice("delivery", "Delivery")]
        if not self.is_submitted():  # preselect on the empty form only; a POST must say what it wants
            self.fulfilment.data = self.fulfilment.data or "delivery"
            if self.payment_method.choices:
                self.payment_method.data = self.payment_method.data or self.payment_method.choices[0].value
        self.normalised_phone = None

    def validate_phone(self, field):
        try:
            self.normalised_phone = normalise_phone(field.data, self.default_region)
        except InvalidPhone as error:
            raise ValidationError(str(error)) from None

    def validate_address(self, field):
        if self.fulfilment.data == "delivery" and not (field.data or "").strip():
            raise ValidationError("Please give the delivery address.")

    def expected_subtotal_minor(self) -> int | None:
        value = (self.expected_subtotal.data or "").strip()
        return int(value) if value.isdigit() else None
