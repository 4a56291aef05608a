"""The snippet a shop pastes: the chat button's fallback number travels in data-phone."""

from checkout.shop.website_plugin import embed_snippet


def test_the_snippet_carries_the_shops_number_for_when_the_shop_is_down():
    snippet = embed_snippet("https://shop.example/static/widget/chatout.js", "chw_abc", "cart", phone="+91 98765-43210")
    assert 'data-mode="cart" data-phone="919876543210" async' in snippet
    assert "data-phone" not in embed_snippet("https://shop.example/static/widget/chatout.js", "chw_abc")
