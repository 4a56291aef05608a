"""database.transaction(): commits on its own; inside a caller's savepoint it joins the caller's work instead."""

import pytest
from sqlalchemy import select

from checkout.database import transaction
from checkout.extensions import db
from checkout.models import Category


def names() -> list[str]:
    return sorted(db.session.scalars(select(Category.name)))


def test_a_use_case_inside_a_savepoint_is_committed_by_the_caller_not_by_itself(app_context):
    with db.session.begin_nested(), transaction():
        db.session.add(Category(name="Tea", slug="tea"))
    db.session.rollback()  # the caller gives up: the use case's write goes with the rest
    assert names() == []


def test_a_use_case_refused_inside_a_savepoint_rolls_back_only_its_own_writes(app_context):
    with db.session.begin_nested():
        db.session.add(Category(name="Kept", slug="kept"))
        with pytest.raises(ValueError), transaction():
            db.session.add(Category(name="Refused", slug="refused"))
            db.session.flush()
            raise ValueError("refused")
    db.session.commit()
    assert names() == ["Kept"]


def test_on_its_own_a_use_case_commits(app_context):
    with transaction():
        db.session.add(Category(name="Tea", slug="tea"))
    db.session.rollback()
    assert names() == ["Tea"]
