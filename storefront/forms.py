"""Checkout and cart forms. Parsing only: the rules live in checkout/ (the checkout's in checkout/orders/validation.py)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from checkout.models.coupons import CODE_MAX
from checkout.orders.pricing import MAX_LINE_QUANTITY
from checkout.orders.validation import ADDRESS_MAX, NAME_MAX, NOTE_MAX
from checkout.phones import InvalidPhone, normalise_phone
from checkout.web.integer_input import ID_MAX, parse_whole_number


class AddToCartForm(FlaskForm):
    variant_id = IntegerField(
        validators=[InputRequired(message="Choose an option."), NumberRange(1, ID_MAX, "That item is not available.")]
    )
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[
            InputRequired(message="Enter a quantity."),
            NumberRange(min=1, max=MAX_LINE_QUANTITY, message=f"Choose 1 to {MAX_LINE_QUANTITY}."),
        ],
    )


class CartCodeForm(FlaskForm):
    """A discount code kept on the cart (blank removes it); whether it applies is the domain's answer."""

    coupon_code = StringField(
        "Discount code", render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": CODE_MAX}
    )


class UpdateCartForm(FlaskForm):
    variant_id = IntegerField(validators=[InputRequired(), NumberRange(1, ID_MAX)])
    quantity = IntegerField(
        "Quantity",
        validators=[
            InputRequired(message="Enter a quantity."),
            NumberRange(min=0, max=MAX_LINE_QUANTITY, message=f"Choose 0 to {MAX_LINE_QUANTITY}."),
        ],
    )


class CheckoutForm(FlaskForm):
    """What the shopper typed, read as text and a phone number; whether it makes an order is the domain's call.

    The radio buttons show what the shop offers, but a value outside them is left for the domain to refuse
    (validate_choice=False), so the shopper hears every problem at once, in the same words.
    """

    # Every field says what it holds, so a phone's autofill can fill the whole form in one tap; `required`
    # and `maxlength` only tell the browser what the domain will ask (the form is sent with novalidate).
    name = StringField("Your name", render_kw={"autocomplete": "name", "maxlength": NAME_MAX, "required": True})
    phone = TelField(
        "WhatsApp number",
        description="We'll confirm your order on this number.",
        render_kw={"autocomplete": "tel", "inputmode": "tel", "required": True},
    )
    fulfilment = RadioField(
        "Delivery or pickup",
        choices=[SelectChoice("delivery", "Delivery"), SelectChoice("pickup", "Pickup")],
        validate_choice=False,
        render_kw={"required": True},
    )
    address = TextAreaField("Delivery address", render_kw={"autocomplete": "street-address", "maxlength": ADDRESS_MAX})
    payment_method = RadioField("Payment", validate_choice=False, render_kw={"required": True})
    note = TextAreaField("Note for the shop (optional)", render_kw={"autocomplete": "off", "maxlength": NOTE_MAX})
    coupon_code = StringField(
        "Discount code (optional)",
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": CODE_MAX},
    )
    consent = BooleanField()  # the label is the shop's wording, recorded with the consent
    checkout_key = HiddenField(validators=[Length(max=64)])
    expected_subtotal = HiddenField()

    def __init__(self, settings, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_region = settings.default_region
        self.payment_method.choices = [SelectChoice(value, label) for value, label in settings.payment_choices]
        if not settings.pickup_enabled:
            self.fulfilment.choices = [SelectChoice("delivery", "Delivery")]
        self.consent.label.text = settings.consent_wording
        if not self.is_submitted():  # preselect on the empty form only; a POST must say what it wants
            self.consent.data = settings.consent_ticked_by_default
            self.fulfilment.data = self.fulfilment.data or "delivery"
            if self.payment_method.choices:
                self.payment_method.data = self.payment_method.data or self.payment_method.choices[0].value
        self.normalised_phone = None

    def validate_phone(self, field):
        try:
            self.normalised_phone = normalise_phone(field.data, self.default_region)
        except InvalidPhone as error:
            raise ValidationError(str(error)) from None

    def phone_if_valid(self) -> str:
        """The typed number in E.164 if it reads as one, else "": applying a discount code needs no other field."""
        try:
            return normalise_phone(self.phone.data or "", self.default_region)
        except InvalidPhone:
            return ""

    def expected_subtotal_minor(self) -> int | None:
        value = (self.expected_subtotal.data or "").strip()
        return parse_whole_number(value)  # amounts are integer columns too
