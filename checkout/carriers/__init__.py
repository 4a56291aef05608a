"""Couriers' webhooks: who may post (carriers.py), how a body is read (mapping.py, presets.py), what it does
to an order (events.py), and the endpoint (views.py)."""
