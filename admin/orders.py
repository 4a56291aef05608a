"""Admin: the order desk."""

from flask import redirect, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from admin import admin_blueprint as bp
from admin.access import can, requires
from checkout.extensions import db
from checkout.models import Order
from checkout.permissions import Permission


@bp.get("/")
@requires(Permission.VIEW_ORDERS)
def home():
    return redirect(url_for("admin.dashboard" if can(Permission.VIEW_DASHBOARD) else "admin.orders"))


@bp.get("/orders")
@requires(Permission.VIEW_ORDERS)
def orders():
    recent = db.session.scalars(
        select(Order).options(selectinload(Order.lines)).order_by(Order.created_at.desc(), Order.id.desc()).limit(50)
    ).all()
    return render_template("admin/orders.html", orders=recent)


@bp.get("/orders/pending-count")
@requires(Permission.VIEW_ORDERS)
def pending_count():
    count = db.session.scalar(select(func.count(Order.id)).where(Order.status == "pending"))
    return render_template("admin/_pending_badge.html", count=count)
