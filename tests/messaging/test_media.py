"""A customer's pictures, documents and voice notes: noted by the signed webhook, downloaded through the (fake)
Cloud API media endpoints after the commit, checked, kept under MEDIA_FOLDER and served to staff who answer chats."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from checkout import jobs
from checkout.extensions import db
from checkout.models.conversations import MediaFile
from checkout.models.messaging import Message
from checkout.whatsapp import media
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_store
from tests.messaging.conftest import cloud_settings, inbound_webhook, receive_webhook

# The smallest PNG there is: one transparent pixel.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
CUSTOMER = "919876543210"


@pytest.fixture
def media_app(make_app, graph_api, tmp_path):
    return make_app(**cloud_settings(graph_api.url), MEDIA_FOLDER=str(tmp_path / "media"))


@pytest.fixture
def ctx(media_app):
    with media_app.app_context():
        make_store(name="Test Shop")
        yield media_app
        db.session.remove()


def customer_sends(app, message: dict) -> MediaFile:
    receive_webhook(app, inbound_webhook(CUSTOMER, message))
    media_file = db.session.scalars(select(MediaFile).order_by(MediaFile.id.desc())).first()
    db.session.rollback()
    return media_file


def image(media_id: str, caption: str = "") -> dict:
    part = {"id": media_id, "mime_type": "image/png", "sha256": "ignored-by-us"}
    if caption:
        part["caption"] = caption
    return {"type": "image", "image": part}


def queued_downloads() -> list:
    """The download jobs waiting in the (in-memory) queue, with their ids and when they may run."""
    return [task for task in jobs.huey.pending() if task.name == "download_media_task"]


def reload(media_file_id: int) -> MediaFile:
    db.session.rollback()
    return db.session.get(MediaFile, media_file_id)


def test_a_picture_is_noted_with_its_message_queued_after_commit_and_stored_by_its_sha256(ctx, graph_api):
    graph_api.host_media("1001", PIXEL_PNG, "image/png")
    jobs.huey.flush()

    noted = customer_sends(ctx, image("1001", caption="Is this the blue one?"))

    assert (noted.status, noted.media_id, noted.attempts) == ("pending", "1001", 0)
    assert [(task.args, task.eta) for task in queued_downloads()] == [((noted.id,), None)]  # nudged after commit
    assert media.download(noted.id) == "stored"
    stored = reload(noted.id)
    sha256 = hashlib.sha256(PIXEL_PNG).hexdigest()
    assert (stored.status, stored.sha256, stored.size_bytes, stored.attempts) == ("stored", sha256, len(PIXEL_PNG), 1)
    assert stored.storage_path == f"{sha256[:2]}/{sha256}.png"
    assert media.stored_file(stored).read_bytes() == PIXEL_PNG
    assert graph_api.media_requests[0] == f"/{ctx.config['WHATSAPP_API_VERSION']}/1001"
    message = db.session.get(Message, stored.message_id)
    assert message.body_text == "📷 Photo · Is this the blue one?"


def test_a_repeated_webhook_notes_the_picture_once(ctx, graph_api):
    body = inbound_webhook(CUSTOMER, image("1002"))
    receive_webhook(ctx, body)
    receive_webhook(ctx, body)
    assert len(db.session.scalars(select(MediaFile)).all()) == 1


def test_a_download_that_does_not_match_metas_sha256_is_not_kept_and_the_retry_stores_it(ctx, graph_api):
    graph_api.host_media("1003", PIXEL_PNG, "image/png", sha256="0" * 64)
    noted = customer_sends(ctx, image("1003"))

    assert media.download(noted.id) == "pending"
    after_first = reload(noted.id)
    assert (after_first.attempts, after_first.error) == (1, "The download did not match WhatsApp's sha256")
    assert not any(p.is_file() for p in media.media_folder().rglob("*"))  # the wrong bytes are gone

    graph_api.host_media("1003", PIXEL_PNG, "image/png")  # Meta serves it right this time
    assert media.download(noted.id) == "stored"
    assert (reload(noted.id).attempts, reload(noted.id).error) == (2, "")


def test_a_download_that_keeps_failing_is_marked_failed_after_the_last_attempt(ctx, graph_api):
    graph_api.host_media("1004", PIXEL_PNG, "image/png", sha256="0" * 64)
    noted = customer_sends(ctx, image("1004"))
    statuses = [media.download(noted.id) for _ in range(media.MAX_ATTEMPTS)]
    assert statuses == ["pending"] * (media.MAX_ATTEMPTS - 1) + ["failed"]
    assert media.download(noted.id) == "failed"  # nothing more is tried
    assert reload(noted.id).attempts == media.MAX_ATTEMPTS


def test_a_file_larger_than_whatsapp_allows_is_refused_without_downloading_it(ctx, graph_api):
    graph_api.host_media("1005", PIXEL_PNG, "image/png", file_size=media.MAX_BYTES["image"] + 1)
    noted = customer_sends(ctx, image("1005"))

    assert media.download(noted.id) == "failed"
    refused = reload(noted.id)
    assert refused.attempts == 1 and "larger than" in refused.error
    assert len(graph_api.media_requests) == 1  # only the look-up: the bytes were never fetched


def test_a_file_that_turns_out_larger_than_its_declared_size_is_cut_off_and_refused(ctx, graph_api):
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (media.MAX_BYTES["sticker"] + 10)
    graph_api.host_media("1006", big, "image/webp", file_size=100)
    noted = customer_sends(ctx, {"type": "sticker", "sticker": {"id": "1006", "mime_type": "image/webp"}})

    assert media.download(noted.id) == "failed"
    assert "larger than" in reload(noted.id).error
    assert not any(p.is_file() for p in media.media_folder().rglob("*"))


@pytest.mark.parametrize("stage", ["info", "download"])
def test_a_graph_api_failure_is_retried_later_and_then_stored(ctx, graph_api, stage):
    graph_api.host_media("1007", PIXEL_PNG, "image/png")
    graph_api.fail_media_next("server_error", stage=stage)
    noted = customer_sends(ctx, image("1007"))
    jobs.huey.flush()

    assert media.download(noted.id) == "pending"
    assert reload(noted.id).error == "WhatsApp answered 500"
    [retry] = queued_downloads()
    assert retry.args == (noted.id,) and retry.eta is not None  # tried again later, not at once

    assert media.download(noted.id) == "stored"


def test_the_sweep_takes_over_a_download_whose_job_was_lost(ctx, graph_api):
    graph_api.host_media("1008", PIXEL_PNG, "image/png")
    noted = customer_sends(ctx, image("1008"))
    assert media.due_for_retry() == []  # its job has a minute to run
    db.session.execute(
        update(MediaFile).where(MediaFile.id == noted.id).values(created_at=noted.created_at - timedelta(minutes=2))
    )
    db.session.commit()
    assert media.due_for_retry() == [noted.id]


def test_a_file_of_a_type_we_do_not_know_is_kept_and_served_only_as_a_download(ctx, graph_api):
    graph_api.host_media("1009", b"<svg onload=alert(1)>", "image/svg+xml")
    message = {"type": "document", "document": {"id": "1009", "mime_type": "image/svg+xml", "filename": "../x.svg"}}
    noted = customer_sends(ctx, message)
    assert media.download(noted.id) == "stored"
    stored = reload(noted.id)
    assert stored.storage_path.endswith(".bin") and stored.mime_type == "image/svg+xml"

    make_staff("fulfilment")
    client = ctx.test_client()
    sign_in(client, "fulfilment@sunrise.example.com")
    response = client.get(f"/admin/chat-media/{stored.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == "attachment; filename=x.bin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == b"<svg onload=alert(1)>"


def test_staff_who_answer_chats_see_the_picture_inline_and_viewers_may_not(ctx, graph_api):
    graph_api.host_media("1010", PIXEL_PNG, "image/png")
    noted = customer_sends(ctx, image("1010"))
    media.download(noted.id)
    make_staff("fulfilment")
    make_staff("viewer")

    staff = ctx.test_client()
    sign_in(staff, "fulfilment@sunrise.example.com")
    shown = staff.get(f"/admin/chat-media/{noted.id}")
    assert (shown.status_code, shown.headers["Content-Type"], shown.data) == (200, "image/png", PIXEL_PNG)
    assert "attachment" not in shown.headers.get("Content-Disposition", "")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"

    viewer = ctx.test_client()
    sign_in(viewer, "viewer@sunrise.example.com")
    assert viewer.get(f"/admin/chat-media/{noted.id}").status_code == 403


def test_a_file_still_downloading_or_failed_is_not_found(ctx, graph_api):
    noted = customer_sends(ctx, image("1011"))  # never hosted: Meta answers 404
    make_staff("fulfilment")
    staff = ctx.test_client()
    sign_in(staff, "fulfilment@sunrise.example.com")
    assert staff.get(f"/admin/chat-media/{noted.id}").status_code == 404
    assert media.download(noted.id) == "failed"  # an unknown id is not worth asking again
    assert staff.get(f"/admin/chat-media/{noted.id}").status_code == 404


def test_the_message_partial_shows_each_state_of_the_media(ctx, graph_api):
    graph_api.host_media("1012", PIXEL_PNG, "image/png")
    graph_api.host_media("1013", b"OggS-voice", "audio/ogg; codecs=opus")
    graph_api.host_media("1014", b"%PDF-1.4", "application/pdf")
    picture = customer_sends(ctx, image("1012", caption="Blue kurta"))
    voice = customer_sends(ctx, {"type": "audio", "audio": {"id": "1013", "voice": True}})
    document = customer_sends(ctx, {"type": "document", "document": {"id": "1014", "filename": "receipt.pdf"}})
    failing = customer_sends(ctx, image("1015"))

    def rendered(media_file: MediaFile) -> str:
        message = db.session.get(Message, media_file.message_id)
        with ctx.test_request_context():
            return ctx.jinja_env.get_template("admin/_message_media.html").render(message=message)

    assert "downloading…" in rendered(picture)
    for media_file in (picture, voice, document, failing):
        media.download(media_file.id)
    assert 'alt="Blue kurta"' in rendered(picture) and f"/admin/chat-media/{picture.id}" in rendered(picture)
    assert "<audio controls" in rendered(voice) and "Voice message from the customer" in rendered(voice)
    assert "download>⬇ receipt.pdf</a>" in rendered(document)
    assert "could not be downloaded from WhatsApp" in rendered(failing)
