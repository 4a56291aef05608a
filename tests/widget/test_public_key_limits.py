"""The widget key is public (it sits in every page of the shop's site), so the Store API's rate limits are
what stand between it and a scraper or a script flooding the shop with orders."""

import pytest

from checkout.extensions import limiter


@pytest.fixture
def limiter_restored():
    yield
    limiter.enabled = True  # the bug below leaks into later tests; don't let this test cause that


def test_an_app_built_after_one_without_limits_still_has_its_limits(make_app, limiter_restored):
    make_app(RATELIMIT_ENABLED=False)
    client = make_app().test_client()
    codes = [client.get("/api/v1/status/no-such-order").status_code for _ in range(121)]
    assert codes[-1] == 429
