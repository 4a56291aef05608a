"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME

from admin.blueprint import admin_blueprint as bp
from admin.forms import LoginForm
from checkout.extensions import limiter, login_manager
from checkout.models import StaffUser
from checkout.staff.accounts import SignInThrottled, authenticate, end_all_sessions, find_signed_in_staff_member


@login_manager.user_loader
def load_user(session_id: str):
    return find_signed_in_staff_member(session_id)


def stay_signed_in(user: StaffUser) -> None:
    """After a change that ended every session of `user`: keep the one making this request, if it is theirs,
    with a fresh remember-me cookie if it had one."""
    if not (current_user.is_authenticated and current_user.id == user.id):
        return
    had_remember_cookie = bool(request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)))
    login_user(user, remember=had_remember_cookie)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must never bounce staff to another site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("admin.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])  # per address; authenticate() limits per account
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except SignInThrottled as refused:
            flash(refused.message, "error")
            return render_template("admin/login.html", form=form), 429
        if user is not None:
            session.clear()  # a fresh session at sign-in: nothing planted before it survives
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    end_all_sessions(current_user._get_current_object())  # a copy of this session's cookie is worth nothing now
    session.clear()
    logout_user()  # after clear(): it leaves the note that deletes the remember-me cookie
    return redirect(url_for("admin.login"))
