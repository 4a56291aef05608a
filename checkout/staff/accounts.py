"""Staff accounts: creating them, changing roles, deactivating and reactivating, changing passwords.

The rules:
- an email address belongs to one account, compared without regard to case (it is stored lower-case, which
  is how sign-in looks it up);
- passwords have at least PASSWORD_MIN characters and are stored hashed (PBKDF2-SHA256, by StaffUser.set_password);
- the shop always keeps at least one active owner: the last one can be neither demoted nor deactivated;
- nobody deactivates their own account (they would lock themselves out mid-task).

Every session and remember-me cookie names the account's session version (StaffUser.get_id). Signing out,
a new password, a new role and deactivation raise it, so every session of that account made before ends
(the web layer signs the person who changed their own password or role in again).

Signing in costs one password check whether or not the email belongs to an account, and an account that
gets SIGN_IN_FAILURES_ALLOWED wrong passwords is refused for a while, from whatever addresses they came.
Each function that changes something commits once; on a refused change it raises a StaffAccountError.
"""

import hashlib
import re
import secrets

from email_validator import EmailNotValidError, validate_email
from limits import parse as parse_rate_limit
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from checkout.database import transaction
from checkout.extensions import db, limiter
from checkout.models.staff import ROLES, StaffUser, check_password_of_nobody

# Wrong passwords one account may receive, from any number of addresses, before sign-in refuses it for a
# while; counted in the rate limiter's storage, so with REDIS_URL every web process shares the count.
SIGN_IN_FAILURES_ALLOWED = parse_rate_limit("10 per 15 minutes")
SESSION_ID = re.compile(r"([0-9]{1,9}):([0-9]{1,9})", re.ASCII)  # StaffUser.get_id's "<id>:<version>"

PASSWORD_MIN = 10
PASSWORD_MAX = 200  # the sign-in form accepts no longer
NAME_MAX = 80
EMAIL_MAX = 254


class StaffAccountError(Exception):
    """A refused change to a staff account; `message` is meant for the person who asked for it."""

    message = "That change to the staff account is not allowed."

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


class InvalidStaffDetails(StaffAccountError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class DuplicateEmail(InvalidStaffDetails):
    def __init__(self, email: str):
        super().__init__("email", f"There is already a staff account for {email}.")


class LastOwner(StaffAccountError):
    message = "The shop needs at least one active owner. Make someone else an owner first."


class CannotDeactivateSelf(StaffAccountError):
    message = "You can't deactivate your own account. Ask another owner to do it."


class WrongPassword(InvalidStaffDetails):
    def __init__(self):
        super().__init__("current_password", "That is not your current password.")


class SignInThrottled(StaffAccountError):
    message = (
        "Too many wrong passwords for this account. "
        f"Wait {SIGN_IN_FAILURES_ALLOWED.get_expiry() // 60} minutes, then try again."
    )


def normalise_email(raw: str) -> str:
    return (raw or "").strip().lower()


def check_email(email: str) -> None:
    """The same test sign-in applies, so every account created can sign in."""
    if len(email) > EMAIL_MAX:
        raise InvalidStaffDetails("email", f"Use an email address of at most {EMAIL_MAX} characters.")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidStaffDetails("email", f"Give a valid email address. {error}") from None


def generate_password() -> str:
    """A random password to hand over once: 16 URL-safe characters, about 96 bits."""
    return secrets.token_urlsafe(12)


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        raise InvalidStaffDetails(field, f"Use a password of at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise InvalidStaffDetails(field, f"Use a password of at most {PASSWORD_MAX} characters.")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidStaffDetails("role", "Choose one of the roles listed.")


def find_staff_member(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def list_staff() -> list[StaffUser]:
    """Everyone, active accounts first, then by name."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name, StaffUser.id)))


def find_signed_in_staff_member(session_id: str) -> StaffUser | None:
    """The account a session or remember-me cookie names, if that session has not been ended since."""
    match = SESSION_ID.fullmatch(session_id or "")
    if match is None:  # also sessions from before session versions: they sign in again
        return None
    user = db.session.get(StaffUser, int(match.group(1)))
    if user is None or user.session_version != int(match.group(2)):
        return None
    return user


def _failure_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()  # no staff address stored in Redis


def _refuse_if_throttled(email: str) -> None:
    if limiter.enabled and not limiter.limiter.test(SIGN_IN_FAILURES_ALLOWED, "staff-sign-in", _failure_key(email)):
        raise SignInThrottled()


def _count_failure(email: str) -> None:
    if limiter.enabled:
        limiter.limiter.hit(SIGN_IN_FAILURES_ALLOWED, "staff-sign-in", _failure_key(email))


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account with this email and password, or None; raises SignInThrottled after too many
    wrong passwords for the account. An older password hash is replaced by one of the current method."""
    email = normalise_email(email)
    _refuse_if_throttled(email)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    password_matches = check_password_of_nobody(password) if user is None else user.check_password(password)
    if not (password_matches and user.active):
        _count_failure(email)
        return None
    if user.password_needs_rehash:
        user.set_password(password)
        db.session.commit()
    return user


def _end_sessions(user: StaffUser) -> None:
    """Every session and remember-me cookie of `user` made until now stops working (at the commit)."""
    user.session_version = StaffUser.session_version + 1  # in SQL: two changes at once both count


def end_all_sessions(user: StaffUser) -> None:
    """Sign `user` out everywhere: the sign-out button."""
    _end_sessions(user)
    db.session.commit()


def email_taken(email: str) -> bool:
    query = select(StaffUser.id).where(func.lower(StaffUser.email) == normalise_email(email))
    return db.session.scalar(query) is not None


def create_staff_member(*, email: str, name: str, role: str, password: str | None = None) -> tuple[StaffUser, str]:
    """A new active account. Without a password one is generated; the password is returned to be shown once."""
    email = normalise_email(email)
    name = (name or "").strip()
    check_email(email)
    if not name or len(name) > NAME_MAX:
        raise InvalidStaffDetails("name", f"Give a name of at most {NAME_MAX} characters.")
    _check_role(role)
    password = password or generate_password()
    check_password_rules(password)
    if email_taken(email):
        raise DuplicateEmail(email)

    user = StaffUser(email=email, name=name, role=role, active=True)
    user.set_password(password)
    try:
        with transaction():
            db.session.add(user)
    except IntegrityError:  # the same address was added at the same moment
        raise DuplicateEmail(email) from None
    return user, password


def _lock_active_owners() -> list[StaffUser]:
    """The active owners, locked in id order so two concurrent demotions can't both see 'another owner left'."""
    query = select(StaffUser).where(StaffUser.role == "owner", StaffUser.active.is_(True)).order_by(StaffUser.id)
    return list(db.session.scalars(query.with_for_update()))


def _refuse_if_last_owner(user: StaffUser) -> None:
    if user.role != "owner" or not user.active:
        return
    owners = _lock_active_owners()
    if all(owner.id == user.id for owner in owners):
        raise LastOwner()


def change_role(user: StaffUser, role: str) -> StaffUser:
    """Give `user` another role; refuses to demote the last active owner."""
    _check_role(role)
    if role == user.role:
        return user
    with transaction():
        if role != "owner":
            _refuse_if_last_owner(user)
        user.role = role
        _end_sessions(user)
    return user


def deactivate_staff_member(user: StaffUser, *, acting_user: StaffUser | None) -> StaffUser:
    """Stop `user` from signing in (and end their sessions). Not yourself, and never the last active owner."""
    if acting_user is not None and acting_user.id == user.id:
        raise CannotDeactivateSelf()
    if not user.active:
        return user
    with transaction():
        _refuse_if_last_owner(user)
        user.active = False
        _end_sessions(user)
    return user


def reactivate_staff_member(user: StaffUser) -> StaffUser:
    user.active = True
    db.session.commit()
    return user


def change_own_password(user: StaffUser, *, current_password: str, new_password: str) -> None:
    """Replace `user`'s password after checking the current one."""
    if not user.check_password(current_password or ""):
        raise WrongPassword()
    check_password_rules(new_password or "", field="new_password")
    user.set_password(new_password)
    _end_sessions(user)
    db.session.commit()
