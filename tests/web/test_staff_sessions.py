"""Staff sessions end when they should, the remember-me cookie is as guarded as the session cookie, and signing
in neither lets one account be guessed at from many addresses nor tells which emails belong to staff."""

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.http import parse_date

import checkout.models.staff as staff_model
from checkout.extensions import db
from tests.admin_helpers import PASSWORD, make_staff, sign_in
from tests.factories import make_store

OWNER = "owner@sunrise.example.com"
MANAGER = "manager@sunrise.example.com"
NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def staff(app):
    """An owner and a manager; their ids by role."""
    with app.app_context():
        make_store()
        ids = {role: make_staff(role).id for role in ("owner", "manager")}
        db.session.remove()
    return ids


def signed_in_browser(app, email, remember=False, address="127.0.0.1"):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    data = {"email": email, "password": PASSWORD} | ({"remember": "y"} if remember else {})
    assert browser.post("/admin/login", data=data).status_code == 302
    return browser


def browser_with_cookie(app, name, value):
    """Another browser (at the same address: strong session protection) holding only a copy of one cookie."""
    browser = app.test_client()
    browser.set_cookie(name, value)
    return browser


def is_signed_in(browser) -> bool:
    response = browser.get("/admin/account")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/admin/login")
        return False
    assert response.status_code == 200
    return True


def set_cookie_header(response, name) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


# --- sessions end -------------------------------------------------------------------------------------------


def test_a_session_cookie_copied_before_sign_out_no_longer_works(app, staff):
    browser = signed_in_browser(app, OWNER)
    stolen = browser.get_cookie("session").value
    assert is_signed_in(browser_with_cookie(app, "session", stolen))

    browser.post("/admin/logout")

    assert not is_signed_in(browser_with_cookie(app, "session", stolen))
    assert not is_signed_in(browser)


def test_a_remember_me_cookie_copied_before_sign_out_no_longer_works(app, staff):
    browser = signed_in_browser(app, OWNER, remember=True)
    stolen = browser.get_cookie("remember_token").value
    assert is_signed_in(browser_with_cookie(app, "remember_token", stolen))

    response = browser.post("/admin/logout")

    assert "Expires=Thu, 01 Jan 1970" in set_cookie_header(response, "remember_token")  # this browser's is deleted
    assert not is_signed_in(browser_with_cookie(app, "remember_token", stolen))


def test_signing_out_ends_the_accounts_sessions_on_other_devices(app, staff):
    laptop, phone = signed_in_browser(app, OWNER), signed_in_browser(app, OWNER, remember=True)
    phone_cookie = phone.get_cookie("remember_token").value
    laptop.post("/admin/logout")
    assert not is_signed_in(phone)
    assert not is_signed_in(browser_with_cookie(app, "remember_token", phone_cookie))
    assert is_signed_in(signed_in_browser(app, OWNER))  # and signing in again works


def test_a_password_change_signs_out_every_other_session_but_keeps_this_one(app, staff):
    laptop = signed_in_browser(app, MANAGER, remember=True)
    phone = signed_in_browser(app, MANAGER, remember=True)
    phone_cookie = phone.get_cookie("remember_token").value

    response = laptop.post(
        "/admin/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)
    assert not is_signed_in(browser_with_cookie(app, "remember_token", phone_cookie))
    # The laptop kept "keep me signed in": its renewed cookie works on its own.
    assert is_signed_in(browser_with_cookie(app, "remember_token", laptop.get_cookie("remember_token").value))


def test_a_role_change_signs_the_member_out_everywhere(app, staff):
    owner = signed_in_browser(app, OWNER)
    manager = signed_in_browser(app, MANAGER, remember=True)
    remembered = manager.get_cookie("remember_token").value

    assert owner.post(f"/admin/staff/{staff['manager']}/role", data={"role": "viewer"}).status_code == 303

    assert not is_signed_in(manager)
    assert not is_signed_in(browser_with_cookie(app, "remember_token", remembered))
    assert is_signed_in(owner)


def test_an_owner_changing_their_own_role_stays_signed_in_here_only(app, staff):
    with app.app_context():
        make_staff("owner", email="second@sunrise.example.com")
    here, elsewhere = signed_in_browser(app, OWNER), signed_in_browser(app, OWNER)
    assert here.post(f"/admin/staff/{staff['owner']}/role", data={"role": "manager"}).status_code == 303
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)


def test_sessions_ended_by_deactivation_stay_ended_after_reactivation(app, staff):
    owner = signed_in_browser(app, OWNER)
    manager = signed_in_browser(app, MANAGER, remember=True)
    remembered = manager.get_cookie("remember_token").value

    assert owner.post(f"/admin/staff/{staff['manager']}/deactivate").status_code == 303
    assert owner.post(f"/admin/staff/{staff['manager']}/reactivate").status_code == 303

    assert not is_signed_in(manager)
    assert not is_signed_in(browser_with_cookie(app, "remember_token", remembered))
    assert is_signed_in(signed_in_browser(app, MANAGER))


# --- the remember-me cookie ---------------------------------------------------------------------------------


def test_the_remember_me_cookie_has_the_session_cookies_flags_and_a_set_lifetime(make_app, monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("REMEMBER_COOKIE_DAYS", "7")
    app = make_app()
    with app.app_context():
        make_store()
        make_staff("owner")
    response = app.test_client().post("/admin/login", data={"email": OWNER, "password": PASSWORD, "remember": "y"})

    session_cookie = set_cookie_header(response, "session")
    remember_cookie = set_cookie_header(response, "remember_token")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in session_cookie and flag in remember_cookie
    expires = parse_date(remember_cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)


def test_the_remember_me_cookie_lasts_30_days_unless_configured(app, staff):
    response = app.test_client().post("/admin/login", data={"email": OWNER, "password": PASSWORD, "remember": "y"})
    remember_cookie = set_cookie_header(response, "remember_token")
    assert "HttpOnly" in remember_cookie and "SameSite=Lax" in remember_cookie
    expires = parse_date(remember_cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)


# --- signing in: per account, and at one cost ---------------------------------------------------------------


def test_wrong_passwords_for_one_account_from_many_addresses_are_refused_after_ten(app, staff):
    codes = [
        app.test_client()
        .post(
            "/admin/login",
            data={"email": OWNER, "password": "guess"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n % 6}"},
        )
        .status_code
        for n in range(12)
    ]
    assert codes == [401] * 10 + [429] * 2

    refused = app.test_client().post(  # even the right password, from a new address, while the account is held
        "/admin/login",
        data={"email": "Owner@Sunrise.Example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert refused.status_code == 429
    assert "Too many wrong passwords for this account. Wait 15 minutes" in refused.get_data(as_text=True)
    # Other accounts sign in from the same addresses as before.
    assert is_signed_in(signed_in_browser(app, MANAGER, address="198.51.100.1"))


def test_successful_sign_ins_do_not_count_towards_the_account_limit(app, staff):
    for n in range(12):
        signed_in_browser(app, OWNER, address=f"198.51.100.{n}")


@pytest.fixture
def checked_hashes(monkeypatch):
    """The stored hashes sign-in checks a password against, in order."""
    checked = []
    real_check = staff_model.check_password_hash

    def counting_check(pwhash, password):
        checked.append(pwhash)
        return real_check(pwhash, password)

    monkeypatch.setattr(staff_model, "check_password_hash", counting_check)
    return checked


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000", "pbkdf2:sha256:2000"])
def test_an_unknown_email_costs_one_password_check_of_the_configured_method(make_app, checked_hashes, method):
    app = make_app(PASSWORD_HASH_METHOD=method)
    with app.app_context():
        make_store()
        make_staff("owner")
        make_staff("manager", active=False)
    client = app.test_client()
    for email in (OWNER, "nobody@sunrise.example.com", MANAGER):
        checked_hashes.clear()
        assert client.post("/admin/login", data={"email": email, "password": "not the password"}).status_code == 401
        assert len(checked_hashes) == 1 and checked_hashes[0].startswith(f"{method}$")
    checked_hashes.clear()
    assert sign_in(client, MANAGER).status_code == 401  # deactivated: checked all the same, then refused
    assert len(checked_hashes) == 1
