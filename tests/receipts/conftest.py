"""The messaging fixtures (a fake Graph API and an app that sends through it), for the receipt's WhatsApp message."""

from tests.messaging.conftest import cloud, cloud_app, graph_api, variant_id  # noqa: F401  (fixtures)
