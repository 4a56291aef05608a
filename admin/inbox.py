"""Admin: the inbox of every customer's WhatsApp conversation, one conversation, and the shop's quick replies.

Views parse the request, call checkout/staff/inbox.py and render. The list and the open chat poll with a
fingerprint of what they show and get 204 while nothing changed; the navigation's badge polls the unread total.
Quick replies are managed by whoever may answer conversations: they are staff's own shortcuts, read and sent by a
person each time (unlike the FAQ, which the bot sends on its own and managers keep).
"""

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from admin.conversation_words import window_sentence
from admin.inbox_chat import chat_lines
from admin.message_forms import StaffMessageForm
from checkout.staff import inbox
from checkout.staff.conversation import StaffMessageError
from checkout.staff.permissions import Permission
from checkout.web.fragments import render_block, render_page_or_block, wants_fragment
from checkout.web.integer_input import parse_id

INBOX_PAGE = "admin/inbox/list.html"
CONVERSATION_PAGE = "admin/inbox/conversation.html"


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Internal note", render_kw={"rows": 2, "maxlength": inbox.NOTE_MAX}, validators=[Length(max=inbox.NOTE_MAX)]
    )


class QuickReplyForm(FlaskForm):
    """Parsing only: the rules live in checkout/staff/inbox.py."""

    title = StringField(
        "Title",
        validators=[Length(max=inbox.QUICK_REPLY_TITLE_MAX)],
        description="Shown on its button in the reply box, like “Delivery times”.",
    )
    body = TextAreaField(
        "Text",
        validators=[Length(max=inbox.QUICK_REPLY_BODY_MAX)],
        render_kw={"rows": 5},
        description="Fills the reply box; staff can change it before sending.",
    )


# ---------------------------------------------------------------------------------------------------------------
# The list and the badge
# ---------------------------------------------------------------------------------------------------------------


def _query() -> inbox.InboxQuery:
    return inbox.InboxQuery.parse(request.args.get("show"), request.args.get("q"), request.args.get("after"))


@bp.get("/inbox")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_list():
    query = _query()
    page = inbox.inbox_page(query, current_user.id)
    if wants_fragment() and request.args.get("since") == page.version:
        return "", 204  # the poll: nothing changed
    return render_page_or_block(INBOX_PAGE, "conversations", page=page, filters=inbox.FILTERS)


@bp.get("/inbox/unread-count")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_unread_count():
    count = inbox.unread_total()
    response = render_template("admin/inbox/_unread_badge.html", count=count)
    return response, 200, {"HX-Trigger": json.dumps({"chatout:inbox-unread": count})}


# ---------------------------------------------------------------------------------------------------------------
# One conversation
# ---------------------------------------------------------------------------------------------------------------


def _conversation_or_404(conversation_id: int):
    conversation = inbox.get_conversation(conversation_id)
    if conversation is None:
        abort(404)
    return conversation


def _quick_reply_text() -> str:
    reply_id = parse_id(request.args.get("reply"))
    reply = inbox.get_quick_reply(reply_id) if reply_id is not None else None
    return reply.body if reply is not None else ""


def _render_conversation(
    conversation, status: int = 200, *, view=None, form=None, note_form=None, error=None, success=None
):
    before = parse_id(request.args.get("before"))
    view = view or inbox.conversation_view(conversation, before)
    if form is None:
        form = StaffMessageForm(formdata=None, text=_quick_reply_text())
    if view.can_send_template:
        form.for_template(view.template_room)
    context = dict(
        view=view,
        lines=chat_lines(view.messages),
        live=before is None,  # the latest messages poll for new ones; an older page stays put
        window_text=window_sentence(view.window),
        message_form=form,
        note_form=note_form or NoteForm(formdata=None),
        quick_replies=inbox.list_quick_replies(),
        assignees=inbox.staff_who_can_answer(),
        error=error,
        success=success,
    )
    return render_page_or_block(CONVERSATION_PAGE, "conversation", **context), status


def _poll_messages(conversation, since: str):
    """The chat's poll: 204 while its messages are as shown, else only the messages, swapped in place."""
    view = inbox.conversation_view(conversation)
    if since == view.version:
        return "", 204
    return render_block(CONVERSATION_PAGE, "messages", view=view, lines=chat_lines(view.messages), live=True)


def _after_change(conversation, done: str):
    if wants_fragment():
        return _render_conversation(conversation, success=done)
    flash(done, "success")
    return redirect(url_for("admin.inbox_conversation", conversation_id=conversation.id), 303)


@bp.get("/inbox/<int:conversation_id>")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_conversation(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    inbox.open_conversation(conversation)
    if wants_fragment() and request.args.get("since"):
        return _poll_messages(conversation, request.args["since"])
    return _render_conversation(conversation)


@bp.post("/inbox/<int:conversation_id>/reply")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_reply(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    form = StaffMessageForm()
    if not form.validate():
        return _render_conversation(conversation, 422, form=form, error=_first_error(form))
    try:
        inbox.send_reply(
            conversation.id,
            form.text.data,
            staff=current_user,
            request_key=form.request_key(),
            as_template="as_template" in request.form,
        )
    except StaffMessageError as refusal:
        return _render_conversation(conversation, 422, form=form, error=str(refusal))
    return _after_change(conversation, "Reply queued: it goes out on WhatsApp in a moment.")


@bp.post("/inbox/<int:conversation_id>/assign")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_assign(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    chosen = request.form.get("assignee", "")
    assignee_id = parse_id(chosen)
    if chosen and assignee_id is None:
        return _render_conversation(conversation, 422, error="Choose a staff member from the list.")
    try:
        inbox.assign(conversation.id, assignee_id)
    except StaffMessageError as refusal:
        return _render_conversation(conversation, 422, error=str(refusal))
    return _after_change(conversation, "Assigned." if assignee_id else "Nobody is assigned now.")


@bp.post("/inbox/<int:conversation_id>/take")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_take(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    inbox.take(conversation.id, current_user)
    return _after_change(conversation, "You answer this chat now; the bot stays quiet until you hand it back.")


@bp.post("/inbox/<int:conversation_id>/hand-back")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_hand_back(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    inbox.hand_back_to_bot(conversation.id)
    return _after_change(conversation, "The bot answers this chat again.")


@bp.post("/inbox/<int:conversation_id>/notes")
@requires(Permission.ANSWER_CONVERSATIONS)
def inbox_note(conversation_id: int):
    conversation = _conversation_or_404(conversation_id)
    form = NoteForm()
    if not form.validate():
        return _render_conversation(conversation, 422, note_form=form, error=_first_error(form))
    try:
        inbox.add_note(conversation.id, form.body.data, current_user)
    except StaffMessageError as refusal:
        return _render_conversation(conversation, 422, note_form=form, error=str(refusal))
    return _after_change(conversation, "Note added.")


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return "Please check the form."


# ---------------------------------------------------------------------------------------------------------------
# Quick replies
# ---------------------------------------------------------------------------------------------------------------


def _quick_reply_or_404(reply_id: int):
    reply = inbox.get_quick_reply(reply_id)
    if reply is None:
        abort(404)
    return reply


def _saved(form: QuickReplyForm, reply):
    """Save the form; on refusal the errors go onto the form and None comes back."""
    try:
        return inbox.save_quick_reply(reply, form.title.data or "", form.body.data or "")
    except inbox.QuickReplyRejected as rejected:
        for field, message in rejected.errors.items():
            form[field].errors.append(message)
        return None


@bp.get("/inbox/quick-replies")
@requires(Permission.ANSWER_CONVERSATIONS)
def quick_replies():
    return render_template("admin/inbox/quick_replies.html", replies=inbox.list_quick_replies())


@bp.route("/inbox/quick-replies/new", methods=["GET", "POST"])
@requires(Permission.ANSWER_CONVERSATIONS)
def quick_reply_new():
    form = QuickReplyForm()
    if form.validate_on_submit() and (reply := _saved(form, None)) is not None:
        flash(f"Added the quick reply “{reply.title}”.", "success")
        return redirect(url_for("admin.quick_replies"), 303)
    return render_template("admin/inbox/quick_reply_form.html", form=form, reply=None), 422 if form.errors else 200


@bp.route("/inbox/quick-replies/<int:reply_id>/edit", methods=["GET", "POST"])
@requires(Permission.ANSWER_CONVERSATIONS)
def quick_reply_edit(reply_id: int):
    reply = _quick_reply_or_404(reply_id)
    form = QuickReplyForm() if request.method == "POST" else QuickReplyForm(obj=reply)
    if form.validate_on_submit() and _saved(form, reply) is not None:
        flash(f"Saved the quick reply “{reply.title}”.", "success")
        return redirect(url_for("admin.quick_replies"), 303)
    return render_template("admin/inbox/quick_reply_form.html", form=form, reply=reply), 422 if form.errors else 200


@bp.post("/inbox/quick-replies/<int:reply_id>/delete")
@requires(Permission.ANSWER_CONVERSATIONS)
def quick_reply_delete(reply_id: int):
    reply = _quick_reply_or_404(reply_id)
    title = reply.title
    inbox.delete_quick_reply(reply)
    flash(f"Deleted the quick reply “{title}”.", "success")
    return redirect(url_for("admin.quick_replies"), 303)
