"""Route guards for the admin blueprint: signed in, active, and allowed by the role table."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from checkout.staff.permissions import Permission, role_allows


def can(permission: Permission) -> bool:
    return current_user.is_authenticated and role_allows(current_user.role, permission)


def requires(permission: Permission):
    """Decorate an admin view: anonymous → sign-in page, signed in without the permission → 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_permission = permission
        return guarded

    return decorator
