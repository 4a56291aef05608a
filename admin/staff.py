"""Admin: staff accounts (owner only) and every staff member's own password page."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired

from admin.access import can, requires
from admin.auth import stay_signed_in
from admin.blueprint import admin_blueprint as bp
from checkout.extensions import limiter
from checkout.staff.accounts import (
    PASSWORD_MIN,
    InvalidStaffDetails,
    StaffAccountError,
    change_own_password,
    change_role,
    create_staff_member,
    deactivate_staff_member,
    find_staff_member,
    list_staff,
    reactivate_staff_member,
)
from checkout.staff.permissions import ROLE_LABELS, Permission

ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class NewStaffForm(FlaskForm):
    """Parsing only: the rules live in checkout/staff/accounts.py."""

    name = StringField("Name", validators=[DataRequired(message="Give the person's name.")])
    email = EmailField("Email", validators=[DataRequired(message="Give an email address.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField(
        "Initial password (optional)",
        description=f"At least {PASSWORD_MIN} characters. Leave empty to generate one, shown once on the next page.",
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(message="Enter your password.")])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password.")],
        description=f"At least {PASSWORD_MIN} characters.",
    )
    confirm_password = PasswordField(
        "New password again", validators=[EqualTo("new_password", message="The two new passwords differ.")]
    )


def _member_or_404(user_id: int):
    member = find_staff_member(user_id)
    if member is None:
        abort(404)
    return member


def _list_page(error: str | None = None, status: int = 200):
    return render_template(
        "admin/staff/list.html", staff=list_staff(), role_choices=ROLE_CHOICES, role_labels=ROLE_LABELS, error=error
    ), status


def _after_change():
    """Back to the list, or home if the change took this person's own right to manage staff."""
    return redirect(url_for("admin.staff_list" if can(Permission.MANAGE_STAFF) else "admin.home"), 303)


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    return _list_page()


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_new():
    form = NewStaffForm()
    if form.validate_on_submit():
        try:
            member, password = create_staff_member(
                email=form.email.data, name=form.name.data, role=form.role.data, password=form.password.data or None
            )
        except InvalidStaffDetails as refused:
            form[refused.field].errors.append(refused.message)
        else:
            if form.password.data:
                flash(f"Account created for {member.name}.", "success")
                return redirect(url_for("admin.staff_list"), 303)
            # The generated password is shown on this response only: it is never stored or put in the session.
            response = render_template("admin/staff/created.html", member=member, password=password)
            return response, 201, {"Cache-Control": "no-store"}
    status = 422 if form.errors else 200
    return render_template("admin/staff/new.html", form=form), status


@bp.post("/staff/<int:user_id>/role")
@requires(Permission.MANAGE_STAFF)
def staff_change_role(user_id: int):
    member = _member_or_404(user_id)
    form = RoleForm()
    if not form.validate():
        return _list_page("Choose one of the roles listed.", 422)
    try:
        change_role(member, form.role.data)
    except StaffAccountError as refused:
        return _list_page(refused.message, 409)
    stay_signed_in(member)  # the change ended the member's sessions; an owner changing their own keeps this one
    flash(f"{member.name} is now {ROLE_LABELS[member.role].lower()}.", "success")
    return _after_change()


@bp.post("/staff/<int:user_id>/deactivate")
@requires(Permission.MANAGE_STAFF)
def staff_deactivate(user_id: int):
    member = _member_or_404(user_id)
    try:
        deactivate_staff_member(member, acting_user=current_user._get_current_object())
    except StaffAccountError as refused:
        return _list_page(refused.message, 409)
    flash(f"{member.name} can no longer sign in.", "success")
    return _after_change()


@bp.post("/staff/<int:user_id>/reactivate")
@requires(Permission.MANAGE_STAFF)
def staff_reactivate(user_id: int):
    member = _member_or_404(user_id)
    reactivate_staff_member(member)
    flash(f"{member.name} can sign in again.", "success")
    return _after_change()


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])  # a borrowed session must not guess the password
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(
                current_user._get_current_object(),
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except InvalidStaffDetails as refused:
            form[refused.field].errors.append(refused.message)
        else:
            stay_signed_in(current_user._get_current_object())  # every other session of the account has ended
            flash("Your password has been changed.", "success")
            return redirect(url_for("admin.account"), 303)
    status = 422 if form.errors else 200
    return render_template("admin/staff/account.html", form=form), status
