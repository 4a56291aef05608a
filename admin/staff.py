"""Admin: staff (being built)."""

from flask import render_template

from admin import admin_blueprint as bp
from admin.access import requires
from checkout.permissions import Permission


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    return render_template("admin/placeholder.html", title="Staff")
