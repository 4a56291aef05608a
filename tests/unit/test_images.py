"""Product pictures: the widths beside a picture in our static folder make its srcset."""

from checkout.catalog.picture_sizes import Picture, picture_for


def test_a_static_picture_lists_every_width_found_beside_it(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    for name in ("mug-800w.webp", "mug-200w.webp", "mug-480w.webp", "mugs-300w.webp", "mug-320w.avif"):
        (folder / name).write_bytes(b"x")
    picture = picture_for("/static/demo/mug-480w.webp", str(tmp_path))
    assert picture == Picture(
        "/static/demo/mug-480w.webp",
        "/static/demo/mug-200w.webp 200w, /static/demo/mug-480w.webp 480w, /static/demo/mug-800w.webp 800w",
    )


def test_other_pictures_are_used_as_they_are(tmp_path):
    assert picture_for("", str(tmp_path)) is None
    assert picture_for("https://cdn.example.com/mug-480w.webp", str(tmp_path)) == Picture(
        "https://cdn.example.com/mug-480w.webp", ""
    )
    assert picture_for("/static/demo/mug.png", str(tmp_path)) == Picture("/static/demo/mug.png", "")
    assert picture_for("/static/../secret-480w.webp", str(tmp_path)) == Picture("/static/../secret-480w.webp", "")
