"""A webhook item that clashes with another worker's write is handled again, not recorded as failed and lost."""

from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import Contact
from checkout.whatsapp import webhooks


def test_a_unique_clash_that_is_not_a_repeat_is_handled_once_more(app_context):
    db.session.add(Contact(phone="+919876543210", wa_id="919876543210"))
    db.session.commit()
    calls = []

    def handler(item):
        calls.append(item["id"])
        if len(calls) == 1:  # the first try writes a row someone else has written meanwhile
            db.session.add(Contact(phone="+919876543210", wa_id="919876543210"))
            db.session.flush()
        else:
            db.session.add(Contact(phone="+254712345678", wa_id="254712345678"))
            db.session.flush()

    assert webhooks._in_savepoint(handler, {"id": "wamid.CLASH"}) == []
    assert calls == ["wamid.CLASH", "wamid.CLASH"]
    assert db.session.scalar(select(func.count(Contact.id))) == 2


def test_a_clash_on_both_tries_is_recorded_on_the_event(app_context):
    db.session.add(Contact(phone="+919876543210", wa_id="919876543210"))
    db.session.commit()

    def handler(item):
        db.session.add(Contact(phone="+919876543210", wa_id="919876543210"))
        db.session.flush()

    [problem] = webhooks._in_savepoint(handler, {"id": "wamid.CLASH"})
    assert problem.startswith("IntegrityError")
