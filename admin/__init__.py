"""The staff side: sign-in and the order desk."""

from flask import Blueprint

admin_blueprint = Blueprint("admin", __name__)

from admin import views  # noqa: E402,F401  (routes register on the blueprint)
