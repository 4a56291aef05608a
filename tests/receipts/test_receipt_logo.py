"""The receipt prints the shop's logo only when it is an image file of this site; nothing is fetched."""

import base64

from checkout.receipts.receipt import local_logo

# A 1×1 transparent PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def test_a_logo_file_of_this_site_is_used(tmp_path):
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "logo.png").write_bytes(PNG)

    assert local_logo("/static/uploads/logo.png", str(tmp_path)) == (tmp_path / "uploads" / "logo.png").resolve()


def test_remote_missing_escaping_or_vector_logos_are_left_off(tmp_path):
    (tmp_path / "logo.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.png").write_bytes(PNG)

    assert local_logo("https://cdn.example.com/logo.png", str(tmp_path)) is None
    assert local_logo("/static/missing.png", str(tmp_path)) is None
    assert local_logo("/static/../secret.png", str(tmp_path)) is None
    assert local_logo("/static/logo.svg", str(tmp_path)) is None
    assert local_logo("", str(tmp_path)) is None
