"""The files customers send on WhatsApp (pictures, documents, voice notes), served to staff who answer chats.

A customer's file is untrusted: it is served with the type from our allow-list (never the one the file
claims), never sniffed, and only pictures and sound are shown in the page; everything else downloads.
"""

from flask import abort, send_file
from werkzeug.utils import secure_filename

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.extensions import db
from checkout.models.conversations import MediaFile
from checkout.staff.permissions import Permission
from checkout.whatsapp import media

PRIVATE_CACHE_SECONDS = 3600  # content-addressed, so it never changes; private: staff only


@bp.get("/chat-media/<int:media_file_id>")
@requires(Permission.ANSWER_CONVERSATIONS)
def chat_media(media_file_id: int):
    return media_file_response(db.session.get(MediaFile, media_file_id))


def media_file_response(media_file: MediaFile | None):
    """A customer's stored file as staff may see it (404 while it is still downloading, failed or missing)."""
    path = media.stored_file(media_file) if media_file is not None else None
    if path is None:
        abort(404)
    inline = media.shown_inline(media_file.mime_type)
    response = send_file(
        path,
        mimetype=media.served_type(media_file.mime_type),
        as_attachment=not inline,
        download_name=_download_name(media_file, path.suffix),
        max_age=PRIVATE_CACHE_SECONDS,
        conditional=True,
    )
    response.cache_control.private = True
    response.cache_control.public = False
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _download_name(media_file: MediaFile, suffix: str) -> str:
    """The customer's own file name when it is safe, else one we make; always with our extension."""
    stem = secure_filename(media_file.file_name).rsplit(".", 1)[0] if media_file.file_name else ""
    return f"{stem or f'whatsapp-{media_file.id}'}{suffix}"
