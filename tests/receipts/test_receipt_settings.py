"""The shop's tax number and receipt footer: typed in Settings → Shop, checked with the other details."""

from tests.web.test_admin_settings import FORM, owner, page_text, stored_settings  # noqa: F401  (owner: fixture)


def test_the_tax_number_and_footer_are_saved_tidied_and_shown_again(app, owner):  # noqa: F811
    form = {
        **FORM,
        "receipt_tax_number": "  GSTIN   29ABCDE1234F1Z5 ",
        "receipt_footer": "Thank you!\r\nआपका धन्यवाद\r\n",
    }

    assert owner.post("/admin/settings", data=form).status_code == 303

    settings = stored_settings(app)
    assert settings.receipt_tax_number == "GSTIN 29ABCDE1234F1Z5"
    assert settings.receipt_footer == "Thank you!\nआपका धन्यवाद"
    page = page_text(owner.get("/admin/settings"))
    assert 'value="GSTIN 29ABCDE1234F1Z5"' in page and "आपका धन्यवाद</textarea>" in page


def test_overlong_receipt_details_are_refused_with_a_reason_and_nothing_saved(app, owner):  # noqa: F811
    form = {**FORM, "receipt_tax_number": "X" * 41, "receipt_footer": "y" * 501}

    response = owner.post("/admin/settings", data=form)

    assert response.status_code == 422
    page = page_text(response)
    assert "Keep the tax number to 40 characters." in page and "Keep this to 500 characters." in page
    assert stored_settings(app).receipt_tax_number == ""
