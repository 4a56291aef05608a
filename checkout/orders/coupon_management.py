"""The shop's discount codes as staff manage them: create one (every problem at once), pause and resume it,
list them with their uses, a coupon's usage list, and the list as CSV."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout.csv_safety import write_csv
from checkout.database import transaction
from checkout.dates import format_moment, zone
from checkout.extensions import db
from checkout.models.catalog import Category, Product, ProductStatus
from checkout.models.coupons import CODE_MAX, Coupon, CouponKind, CouponRedemption
from checkout.models.store import StoreSettings
from checkout.money import InvalidAmount, format_money, from_minor, parse_amount
from checkout.orders.coupons import CODE_PATTERN, normalise_code
from checkout.web.integer_input import ID_MAX

LIMIT_MAX = 1_000_000


class InvalidCoupon(ValueError):
    """A coupon that can't be saved: `errors` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class CouponDraft:
    """A new coupon as staff typed it: text, read and checked by create_coupon."""

    code: str = ""
    kind: str = CouponKind.PERCENT
    value: str = ""  # a percentage, or an amount of money
    minimum_subtotal: str = ""
    starts_at: str = ""  # "2026-12-24T09:00" in the shop's time zone (an <input type="datetime-local">)
    ends_at: str = ""
    usage_limit: str = ""
    per_customer_limit: str = ""
    product_ids: list[int] = field(default_factory=list)
    category_ids: list[int] = field(default_factory=list)


def _code(text: str, errors: dict) -> str:
    code = normalise_code(text)
    if not code:
        errors["code"] = "Give the code shoppers will type."
    elif len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        errors["code"] = f"Use 2 to {CODE_MAX} letters, digits, dashes or underscores (no spaces)."
    elif db.session.scalar(select(Coupon.id).where(Coupon.code == code)) is not None:
        errors["code"] = f"There is already a code {code} (codes are the same in any case)."
    return code


def _value(draft: CouponDraft, settings: StoreSettings, errors: dict) -> int:
    if draft.kind == CouponKind.FREE_DELIVERY:
        return 0
    if draft.kind == CouponKind.PERCENT:
        text = draft.value.strip().removesuffix("%").strip()
        if not text.isdigit() or not 1 <= int(text) <= 100:
            errors["value"] = "Give a whole percentage from 1 to 100."
            return 0
        return int(text)
    try:
        amount = parse_amount(draft.value, settings.currency, settings.locale)
    except InvalidAmount as problem:
        errors["value"] = str(problem)
        return 0
    if amount <= 0:
        errors["value"] = "Give an amount above zero."
    return amount


def _minimum(text: str, settings: StoreSettings, errors: dict) -> int:
    if not text.strip():
        return 0
    try:
        return parse_amount(text, settings.currency, settings.locale)
    except InvalidAmount as problem:
        errors["minimum_subtotal"] = str(problem)
        return 0


def _moment(text: str, name: str, settings: StoreSettings, errors: dict) -> datetime | None:
    """A local date and time typed in the shop's time zone → UTC; empty is no bound."""
    if not text.strip():
        return None
    try:
        local = datetime.fromisoformat(text.strip())
        if local.tzinfo is None:
            local = local.replace(tzinfo=zone(settings.zone_name))
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or at the very edge of the calendar
        errors[name] = "Give a date and time, like 2026-12-24 09:00."
        return None


def _limit(text: str, name: str, errors: dict) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= LIMIT_MAX:
        errors[name] = f"Give a whole number from 1 to {LIMIT_MAX:,}, or leave it empty for no limit."
        return None
    return int(text)


def _known_ids(model, ids: list[int]) -> list[int]:
    """The ids that name rows of `model`; anything else (a stale choice, a typed number) is dropped."""
    wanted = sorted({i for i in ids if isinstance(i, int) and 1 <= i <= ID_MAX})
    if not wanted:
        return []
    return list(db.session.scalars(select(model.id).where(model.id.in_(wanted)).order_by(model.id)))


def create_coupon(draft: CouponDraft, settings: StoreSettings) -> Coupon:
    """Save a new coupon, or raise InvalidCoupon naming every field that is wrong (nothing saved)."""
    errors: dict[str, str] = {}
    if draft.kind not in set(CouponKind):
        errors["kind"] = "Choose percentage off, amount off or free delivery."
    code = _code(draft.code, errors)
    coupon = Coupon(
        code=code,
        kind=draft.kind,
        value=_value(draft, settings, errors),
        minimum_subtotal_minor=_minimum(draft.minimum_subtotal, settings, errors),
        starts_at=_moment(draft.starts_at, "starts_at", settings, errors),
        ends_at=_moment(draft.ends_at, "ends_at", settings, errors),
        usage_limit=_limit(draft.usage_limit, "usage_limit", errors),
        per_customer_limit=_limit(draft.per_customer_limit, "per_customer_limit", errors),
        product_ids=_known_ids(Product, draft.product_ids),
        category_ids=_known_ids(Category, draft.category_ids),
    )
    # A scope that lost a choice would quietly widen the code (an empty scope is the whole cart): ask again.
    if len(coupon.product_ids) < len(set(draft.product_ids)):
        errors["product_ids"] = "A chosen product no longer exists; choose the products again."
    if len(coupon.category_ids) < len(set(draft.category_ids)):
        errors["category_ids"] = "A chosen category no longer exists; choose the categories again."
    if coupon.starts_at and coupon.ends_at and coupon.ends_at <= coupon.starts_at:
        errors.setdefault("ends_at", "The end must come after the start.")
    if errors:
        raise InvalidCoupon(errors)
    try:
        with transaction():
            db.session.add(coupon)
    except IntegrityError:  # the same code saved a moment ago by someone else
        raise InvalidCoupon({"code": f"There is already a code {code}."}) from None
    return coupon


def list_products_for_scope() -> list[Product]:
    """The products a code may be limited to: every one not archived, by name."""
    query = select(Product).where(Product.status != ProductStatus.ARCHIVED).order_by(Product.name, Product.id)
    return list(db.session.scalars(query))


def find_coupon_by_id(coupon_id: int) -> Coupon | None:
    return db.session.get(Coupon, coupon_id)


def set_paused(coupon: Coupon, paused: bool) -> Coupon:
    """Pause a code (shoppers are told it is not available) or resume it; its uses are kept."""
    with transaction():
        coupon.paused = paused
    return coupon


@dataclass(frozen=True)
class CouponUsage:
    coupon: Coupon
    uses: int
    saved_minor: int  # what its uses took off, in all


def coupons_with_usage() -> list[CouponUsage]:
    """Every coupon, newest first, with how often it was used and what it saved (one query)."""
    uses = (
        select(
            CouponRedemption.coupon_id,
            func.count(CouponRedemption.id).label("uses"),
            func.coalesce(func.sum(CouponRedemption.discount_minor), 0).label("saved"),
        )
        .group_by(CouponRedemption.coupon_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Coupon, func.coalesce(uses.c.uses, 0), func.coalesce(uses.c.saved, 0))
        .outerjoin(uses, uses.c.coupon_id == Coupon.id)
        .order_by(Coupon.created_at.desc(), Coupon.id.desc())
    ).all()
    return [CouponUsage(coupon, count, saved) for coupon, count, saved in rows]


def coupon_redemptions(coupon: Coupon) -> list[CouponRedemption]:
    """The orders that used the coupon, newest first, with their orders loaded."""
    return list(
        db.session.scalars(
            select(CouponRedemption)
            .where(CouponRedemption.coupon_id == coupon.id)
            .options(selectinload(CouponRedemption.order))
            .order_by(CouponRedemption.id.desc())
        )
    )


def describe_value(coupon: Coupon, settings: StoreSettings) -> str:
    """ "10 % off", "₹100.00 off" or "Free delivery": what the code gives, in words."""
    if coupon.kind == CouponKind.PERCENT:
        return f"{coupon.value} % off"
    if coupon.kind == CouponKind.FIXED:
        return f"{format_money(coupon.value, settings.currency, settings.locale)} off"
    return "Free delivery"


CSV_HEADER = [
    "code",
    "kind",
    "value",
    "minimum_subtotal",
    "starts_at_utc",
    "ends_at_utc",
    "usage_limit",
    "per_customer_limit",
    "product_ids",
    "category_ids",
    "paused",
    "uses",
    "saved",
    "currency",
    "created_at_local",
]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def coupons_csv(settings: StoreSettings) -> str:
    """Every coupon with its uses and savings, for a spreadsheet; cells neutralised against formulas."""
    currency = settings.currency
    rows = (
        [
            usage.coupon.code,
            usage.coupon.kind,
            usage.coupon.value if usage.coupon.kind != CouponKind.FIXED else from_minor(usage.coupon.value, currency),
            from_minor(usage.coupon.minimum_subtotal_minor, currency),
            _when(usage.coupon.starts_at),
            _when(usage.coupon.ends_at),
            usage.coupon.usage_limit or "",
            usage.coupon.per_customer_limit or "",
            " ".join(str(i) for i in usage.coupon.product_ids or []),
            " ".join(str(i) for i in usage.coupon.category_ids or []),
            "yes" if usage.coupon.paused else "no",
            usage.uses,
            from_minor(usage.saved_minor, currency),
            currency,
            format_moment(usage.coupon.created_at, settings.zone_name, settings.locale),
        ]
        for usage in coupons_with_usage()
    )
    return write_csv(rows, CSV_HEADER)
