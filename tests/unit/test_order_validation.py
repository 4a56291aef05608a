import pytest

from checkout.orders.errors import ErrorCode, InvalidOrderDetails, ProblemReason
from checkout.orders.validation import CustomerDetails, order_details_problems, validate_order_details
from tests.factories import make_store


def details(**changes) -> CustomerDetails:
    base = dict(
        name="Asha Kumar",
        phone="+919876543210",
        fulfilment="delivery",
        address="12 MG Road",
        payment_method="cod",
        note="",
    )
    return CustomerDetails(**{**base, **changes})


def test_every_problem_with_the_details_is_reported_at_once(app_context):
    settings = make_store(payment_methods=["cod"])
    problems = order_details_problems(
        details(name=" ", phone="", address="", payment_method="card", note="n" * 501), settings
    )
    assert [(p.field, p.reason) for p in problems] == [
        ("name", ProblemReason.REQUIRED),
        ("phone", ProblemReason.REQUIRED),
        ("address", ProblemReason.REQUIRED),
        ("payment_method", ProblemReason.NOT_OFFERED),
        ("note", ProblemReason.TOO_LONG),
    ]


def test_details_that_make_an_order_have_no_problems(app_context):
    assert order_details_problems(details(), make_store()) == []
    assert order_details_problems(details(fulfilment="pickup", address=""), make_store(pickup_enabled=True)) == []


def test_the_error_carries_its_code_and_every_problem(app_context):
    with pytest.raises(InvalidOrderDetails) as caught:
        validate_order_details(details(name="", address=""), make_store())
    assert caught.value.code is ErrorCode.INVALID_DETAILS
    assert [p.field for p in caught.value.problems] == ["name", "address"]
    assert (caught.value.field, str(caught.value)) == ("name", "Please tell us your name.")


def test_a_choice_problem_names_what_may_be_chosen(app_context):
    (problem,) = order_details_problems(details(fulfilment="drone"), make_store(pickup_enabled=False))
    assert (problem.field, problem.choices) == ("fulfilment", ("delivery",))
