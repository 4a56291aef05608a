"""Signing staff in for admin tests."""

from checkout.extensions import db
from checkout.models import StaffUser

PASSWORD = "correct horse battery"


def make_staff(role="owner", email=None, name=None, active=True) -> StaffUser:
    user = StaffUser(
        email=email or f"{role}@sunrise.example.com", name=name or role.capitalize(), role=role, active=active
    )
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, email, password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password})
