"""Admin: dashboard (being built)."""

from flask import render_template

from admin import admin_blueprint as bp
from admin.access import requires
from checkout.permissions import Permission


@bp.get("/dashboard")
@requires(Permission.VIEW_DASHBOARD)
def dashboard():
    return render_template("admin/placeholder.html", title="Dashboard")
