"""Admin: the shop's FAQ — answers the WhatsApp chat gives on its own, each recognised by keywords.

Views parse the form and call checkout/shop/faq.py, where every rule lives. The list page also lets staff
try a message and see which answer a customer would get.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.catalog.values import KEYWORDS_MAX
from checkout.shop.faq import (
    ANSWER_MAX,
    QUESTION_MAX,
    FaqDraft,
    FaqRejected,
    best_faq_entry,
    delete_faq_entry,
    get_faq_entry,
    list_faq_entries,
    save_faq_entry,
)
from checkout.staff.permissions import Permission

TRY_MAX = 500


class FaqForm(FlaskForm):
    """Parsing only: the rules live in checkout/shop/faq.py."""

    question = StringField(
        "Question", validators=[Length(max=QUESTION_MAX)], description="As customers ask it; shown to staff only."
    )
    keywords = StringField(
        "Keywords",
        validators=[Length(max=KEYWORDS_MAX)],
        description="Separated by commas, like “delivery, kab tak, how long”. A message with every word of one "
        "keyword gets this answer; spelling slips are forgiven.",
    )
    answer = TextAreaField(
        "Answer", validators=[Length(max=ANSWER_MAX)], description=f"Sent as it is; at most {ANSWER_MAX} characters."
    )
    position = StringField("Position", description="Lower numbers are tried first. Leave empty to add at the end.")
    active = BooleanField("Active: the chat gives this answer", default=True)


def _entry_or_404(entry_id: int):
    entry = get_faq_entry(entry_id)
    if entry is None:
        abort(404)
    return entry


def _draft(form: FaqForm) -> FaqDraft:
    return FaqDraft(
        question=form.question.data or "",
        keywords=form.keywords.data or "",
        answer=form.answer.data or "",
        active=bool(form.active.data),
        position=form.position.data or "",
    )


def _saved(form: FaqForm, entry):
    """Save the form; on refusal the errors go onto the form and None comes back."""
    try:
        return save_faq_entry(entry, _draft(form))
    except FaqRejected as rejected:
        for field, message in rejected.errors.items():
            form[field].errors.append(message)
        return None


@bp.get("/faq")
@requires(Permission.MANAGE_FAQ)
def faq_list():
    entries = list_faq_entries()
    tried = request.args.get("try", "").strip()[:TRY_MAX]
    answered = best_faq_entry(tried, [entry for entry in entries if entry.active]) if tried else None
    return render_template("admin/faq/list.html", entries=entries, tried=tried, answered=answered)


@bp.route("/faq/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_FAQ)
def faq_new():
    form = FaqForm()
    if form.validate_on_submit() and (entry := _saved(form, None)) is not None:
        flash(f"Added the answer to “{entry.question}”.", "success")
        return redirect(url_for("admin.faq_list"), 303)
    return render_template("admin/faq/form.html", form=form, entry=None), 422 if form.errors else 200


@bp.route("/faq/<int:entry_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_FAQ)
def faq_edit(entry_id: int):
    entry = _entry_or_404(entry_id)
    form = FaqForm() if request.method == "POST" else FaqForm(obj=entry, position=str(entry.position))
    if form.validate_on_submit() and _saved(form, entry) is not None:
        flash(f"Saved the answer to “{entry.question}”.", "success")
        return redirect(url_for("admin.faq_list"), 303)
    return render_template("admin/faq/form.html", form=form, entry=entry), 422 if form.errors else 200


@bp.post("/faq/<int:entry_id>/delete")
@requires(Permission.MANAGE_FAQ)
def faq_delete(entry_id: int):
    entry = _entry_or_404(entry_id)
    question = entry.question
    delete_faq_entry(entry)
    flash(f"Deleted the answer to “{question}”.", "success")
    return redirect(url_for("admin.faq_list"), 303)
