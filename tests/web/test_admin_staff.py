"""Staff accounts through the test client: create, change role, deactivate, and the rules that protect them."""

import html

import pytest
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import StaffUser
from checkout.staff.accounts import LastOwner, change_role, deactivate_staff_member

PASSWORD = "correct horse battery"


def make_staff(app, role, email=None, password=PASSWORD, name=None) -> int:
    with app.app_context():
        user = StaffUser(email=email or f"{role}@shop.example", name=name or role.title(), role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def sign_in(client, email, password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password})


def staff_member(app, user_id) -> StaffUser:
    with app.app_context():
        user = db.session.get(StaffUser, user_id)
        db.session.expunge(user)
        return user


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def owner(app, client):
    """The signed-in owner's client; the owner's id is client.owner_id."""
    client.owner_id = make_staff(app, "owner", name="Olive Owner")
    assert sign_in(client, "owner@shop.example").status_code == 302
    return client


# --- listing and creating -------------------------------------------------------------------------------------


def test_staff_list_shows_everyone_with_role_status_and_date(app, owner):
    make_staff(app, "fulfilment", email="fatuma@shop.example", name="Fatuma")
    page = page_text(owner.get("/admin/staff"))
    assert "Olive Owner" in page and "(you)" in page
    assert "Fatuma" in page and "fatuma@shop.example" in page
    assert '<option value="fulfilment" selected>Fulfilment</option>' in page
    assert page.count("Active") >= 2 and "<time datetime=" in page


def test_owner_creates_a_staff_member_with_a_chosen_password(app, owner, client):
    response = owner.post(
        "/admin/staff/new",
        data={"name": "Mary Manager", "email": "  Mary@Shop.Example ", "role": "manager", "password": "s3cret-enough"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/staff")
    with app.app_context():
        mary = db.session.scalars(select(StaffUser).where(StaffUser.name == "Mary Manager")).one()
        assert (mary.email, mary.role, mary.active) == ("mary@shop.example", "manager", True)
        assert (
            mary.password_hash.startswith(f"{app.config['PASSWORD_HASH_METHOD']}$")
            and "s3cret-enough" not in mary.password_hash
        )
    assert "Account created for Mary Manager." in page_text(owner.get("/admin/staff"))

    other = app.test_client()
    assert sign_in(other, "MARY@shop.example", "s3cret-enough").status_code == 302


def test_a_generated_password_is_shown_once_and_works(app, owner):
    response = owner.post("/admin/staff/new", data={"name": "Vic", "email": "vic@shop.example", "role": "viewer"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = page_text(response)
    password = page.split('<code id="generated-password" class="reference">')[1].split("</code>")[0]
    assert len(password) >= 10
    assert "won't be shown again" in page

    with owner.session_transaction() as session:
        assert password not in repr(dict(session))  # never kept in the (client-side) session
    assert password not in page_text(owner.get("/admin/staff"))
    assert sign_in(app.test_client(), "vic@shop.example", password).status_code == 302


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"email": "OWNER@shop.example"}, "There is already a staff account for owner@shop.example."),
        ({"email": "not-an-email"}, "Give a valid email address."),
        ({"name": ""}, "Give the person's name."),
        ({"password": "short"}, "Use a password of at least 10 characters."),
        ({"role": "admin"}, "Not a valid choice"),
    ],
)
def test_bad_new_staff_details_are_explained_and_nothing_is_created(app, owner, changes, message):
    data = {"name": "Someone", "email": "someone@shop.example", "role": "viewer", "password": "long enough pw"}
    response = owner.post("/admin/staff/new", data={**data, **changes})
    assert response.status_code == 422
    assert message in page_text(response)
    with app.app_context():
        assert len(db.session.scalars(select(StaffUser)).all()) == 1


# --- roles ----------------------------------------------------------------------------------------------------


def test_owner_changes_a_role(app, owner):
    fatuma = make_staff(app, "fulfilment", email="fatuma@shop.example", name="Fatuma")
    response = owner.post(f"/admin/staff/{fatuma}/role", data={"role": "manager"})
    assert response.status_code == 303
    assert staff_member(app, fatuma).role == "manager"
    assert "Fatuma is now manager." in page_text(owner.get("/admin/staff"))


def test_an_unknown_role_or_person_is_refused(app, owner):
    fatuma = make_staff(app, "fulfilment", email="fatuma@shop.example")
    assert owner.post(f"/admin/staff/{fatuma}/role", data={"role": "superuser"}).status_code == 422
    assert staff_member(app, fatuma).role == "fulfilment"
    assert owner.post("/admin/staff/999/role", data={"role": "viewer"}).status_code == 404
    assert owner.post("/admin/staff/999/deactivate").status_code == 404


def test_the_last_owner_cannot_be_demoted(app, owner):
    response = owner.post(f"/admin/staff/{owner.owner_id}/role", data={"role": "manager"})
    assert response.status_code == 409
    assert "The shop needs at least one active owner." in page_text(response)
    assert staff_member(app, owner.owner_id).role == "owner"


def test_an_owner_can_step_down_when_another_owner_remains(app, owner):
    make_staff(app, "owner", email="second@shop.example")
    response = owner.post(f"/admin/staff/{owner.owner_id}/role", data={"role": "manager"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/")  # no longer allowed on the staff page
    assert staff_member(app, owner.owner_id).role == "manager"
    assert owner.get("/admin/staff").status_code == 403


def test_a_deactivated_owner_does_not_count_as_the_remaining_owner(app, owner):
    retired = make_staff(app, "owner", email="retired@shop.example")
    assert owner.post(f"/admin/staff/{retired}/deactivate").status_code == 303
    assert owner.post(f"/admin/staff/{owner.owner_id}/role", data={"role": "viewer"}).status_code == 409


def test_the_rules_hold_without_the_web_layer(app, app_context):
    only_owner = db.session.get(StaffUser, make_staff(app, "owner"))
    with pytest.raises(LastOwner):
        deactivate_staff_member(only_owner, acting_user=None)
    with pytest.raises(LastOwner):
        change_role(only_owner, "viewer")
    db.session.refresh(only_owner)
    assert only_owner.active and only_owner.role == "owner"


# --- deactivating ---------------------------------------------------------------------------------------------


def test_an_owner_cannot_deactivate_themselves(app, owner):
    make_staff(app, "owner", email="second@shop.example")
    response = owner.post(f"/admin/staff/{owner.owner_id}/deactivate")
    assert response.status_code == 409
    assert "You can't deactivate your own account." in page_text(response)
    assert staff_member(app, owner.owner_id).active


def test_a_deactivated_member_cannot_sign_in_and_their_open_session_stops_working(app, owner):
    mary = make_staff(app, "manager", email="mary@shop.example")
    marys_browser = app.test_client()
    assert sign_in(marys_browser, "mary@shop.example").status_code == 302
    assert marys_browser.get("/admin/orders").status_code == 200

    assert owner.post(f"/admin/staff/{mary}/deactivate").status_code == 303
    assert staff_member(app, mary).active is False

    stale = marys_browser.get("/admin/orders")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/admin/login")
    assert sign_in(app.test_client(), "mary@shop.example").status_code == 401

    assert owner.post(f"/admin/staff/{mary}/reactivate").status_code == 303
    assert sign_in(app.test_client(), "mary@shop.example").status_code == 302


# --- my password ----------------------------------------------------------------------------------------------


def test_any_staff_member_can_change_their_own_password(app, client):
    make_staff(app, "viewer")
    sign_in(client, "viewer@shop.example")
    assert client.get("/admin/account").status_code == 200
    new = "a much longer passphrase"
    response = client.post(
        "/admin/account", data={"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert response.status_code == 303
    assert "Your password has been changed." in page_text(client.get("/admin/account"))
    assert sign_in(app.test_client(), "viewer@shop.example", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "viewer@shop.example", new).status_code == 302


@pytest.mark.parametrize(
    "data,message",
    [
        ({"current_password": "wrong password", "new_password": "new password!", "confirm_password": "new password!"},
         "That is not your current password."),
        ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
         "Use a password of at least 10 characters."),
        ({"current_password": PASSWORD, "new_password": "new password!", "confirm_password": "other password"},
         "The two new passwords differ."),
    ],
)  # fmt: skip
def test_a_password_change_needs_the_current_password_and_a_good_new_one(app, client, data, message):
    make_staff(app, "fulfilment")
    sign_in(client, "fulfilment@shop.example")
    response = client.post("/admin/account", data=data)
    assert response.status_code == 422
    assert message in page_text(response)
    assert sign_in(app.test_client(), "fulfilment@shop.example", PASSWORD).status_code == 302


# --- who may --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "fulfilment", "viewer"])
def test_only_the_owner_may_manage_staff(app, client, role):
    target = make_staff(app, "viewer", email="target@shop.example")
    make_staff(app, role, email="me@shop.example")
    sign_in(client, "me@shop.example")
    assert client.get("/admin/staff").status_code == 403
    assert client.get("/admin/staff/new").status_code == 403
    new = {"name": "Sneaky", "email": "sneaky@shop.example", "role": "owner", "password": "long enough pw"}
    assert client.post("/admin/staff/new", data=new).status_code == 403
    assert client.post(f"/admin/staff/{target}/role", data={"role": "owner"}).status_code == 403
    assert client.post(f"/admin/staff/{target}/deactivate").status_code == 403
    assert client.post(f"/admin/staff/{target}/reactivate").status_code == 403
    target_now = staff_member(app, target)
    assert target_now.role == "viewer" and target_now.active


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (
        client.get("/admin/staff"),
        client.get("/admin/account"),
        client.post("/admin/staff/1/deactivate"),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")
