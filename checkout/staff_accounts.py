"""Staff accounts: creating them, changing roles, deactivating and reactivating, changing passwords.

The rules:
- an email address belongs to one account, compared without regard to case (it is stored lower-case, which
  is how sign-in looks it up);
- passwords have at least PASSWORD_MIN characters and are stored hashed (PBKDF2-SHA256, by StaffUser.set_password);
- the shop always keeps at least one active owner: the last one can be neither demoted nor deactivated;
- nobody deactivates their own account (they would lock themselves out mid-task).

A deactivated account cannot sign in, and its open sessions stop working at once: Flask-Login treats a user
whose `is_active` is false as signed out, and StaffUser.is_active is the `active` column.
Each function that changes something commits once; on a refused change it raises a StaffAccountError.
"""

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from checkout.extensions import db
from checkout.models.staff import ROLES, StaffUser

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
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same address was added at the same moment
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
    if role != "owner":
        try:
            _refuse_if_last_owner(user)
        except LastOwner:
            db.session.rollback()
            raise
    user.role = role
    db.session.commit()
    return user


def deactivate_staff_member(user: StaffUser, *, acting_user: StaffUser | None) -> StaffUser:
    """Stop `user` from signing in (and end their sessions). Not yourself, and never the last active owner."""
    if acting_user is not None and acting_user.id == user.id:
        raise CannotDeactivateSelf()
    if not user.active:
        return user
    try:
        _refuse_if_last_owner(user)
    except LastOwner:
        db.session.rollback()
        raise
    user.active = False
    db.session.commit()
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
    db.session.commit()
