"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from admin import admin_blueprint as bp
from admin.forms import LoginForm
from checkout.extensions import db, limiter, login_manager
from checkout.models import StaffUser


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must never bounce staff to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == form.email.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            if user.password_needs_rehash:
                user.set_password(form.password.data)
                db.session.commit()
            session.clear()  # a fresh session at sign-in: nothing planted before it survives
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))
