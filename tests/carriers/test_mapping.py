"""Reading couriers' bodies: dotted paths, the status table, the dedupe key, and each preset's documented shapes."""

import pytest

from checkout.carriers import carriers, mapping
from checkout.carriers.presets import DELHIVERY, SHIPROCKET
from checkout.models import Carrier
from tests.carriers.couriers import delhivery_body, shiprocket_body

BODY = {
    "data": {"awb": 1490110123456, "scans": [{"s": "first"}, {"s": "last"}], "flag": True, "none": None},
    "list": [1, 2],
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.awb", "1490110123456"),  # numbers are read as text
        ("data.scans.0.s", "first"),
        ("data.scans.-1.s", "last"),
        ("data.scans.9.s", ""),
        ("data.scans.x", ""),
        ("data.missing", ""),
        ("data.none", ""),
        ("data.flag", ""),
        ("data", ""),  # an object is not a value
        ("list", ""),
        ("data..awb", ""),
        ("", ""),
    ],
)
def test_a_dotted_path_reads_text_or_nothing(path, value):
    assert mapping.value_at(BODY, path) == value


def test_a_generic_mapping_reads_every_named_field_and_cuts_long_values():
    paths = {"tracking_number": "awb", "status": "s", "reason": "why", "window": "slot"}
    reading = mapping.read({"awb": "A" * 200, "s": "OFD", "why": "x" * 500, "slot": "14-17"}, paths)
    assert reading.tracking_number == "A" * 80 and reading.status == "OFD" and reading.window == "14-17"
    assert len(reading.reason) == mapping.TEXT_MAX and reading.event_id == ""


def test_the_status_table_ignores_case_and_spacing_and_unknown_events():
    table = {"Out For  Delivery": "out_for_delivery", "LOST": "no_such_event"}
    assert mapping.event_for("out for delivery", table) == "out_for_delivery"
    assert mapping.event_for("LOST", table) == "" and mapping.event_for("", table) == ""


def test_the_dedupe_key_is_the_event_id_else_the_scan_else_the_body():
    assert mapping.CarrierReading(event_id="e1", tracking_number="T").dedupe_key(b"{}") == "id:e1"
    scan = mapping.CarrierReading(tracking_number="T", status="OFD", time="10:00")
    assert scan.dedupe_key(b"{}") == "scan:T|OFD|10:00"
    assert mapping.CarrierReading(tracking_number="T").dedupe_key(b"{}").startswith("sha256:")
    assert mapping.CarrierReading().dedupe_key(b"{}") != mapping.CarrierReading().dedupe_key(b"{ }")


def test_status_lines_are_parsed_or_refused_with_the_line_named():
    table, problem = carriers.parse_status_lines("Picked Up = picked_up\n\nA=B = delivered\n")
    assert table == {"Picked Up": "picked_up", "A=B": "delivered"} and problem == ""
    assert carriers.parse_status_lines("OFD out_for_delivery")[1].startswith("Line 1:")
    assert carriers.parse_status_lines("x = picked_up\nOFD = teleported")[1].startswith("Line 2:")


def preset_carrier(preset) -> Carrier:
    name = preset.label.lower()
    return Carrier(name=name, label=preset.label, preset=name, status_map=dict(preset.status_map), paths={})


@pytest.mark.parametrize(
    ("status", "activity", "event"),
    [
        ("PICKED UP", "", "picked_up"),
        ("IN TRANSIT", "", "in_transit"),
        ("OUT FOR DELIVERY", "", "out_for_delivery"),
        ("DELIVERED", "", "delivered"),
        ("UNDELIVERED", "Consignee unavailable", "delivery_failed"),
        ("RTO INITIATED", "", "returning"),
        ("RTO DELIVERED", "", "returned"),
        ("PICKUP EXCEPTION", "", ""),
    ],
)
def test_shiprocket_bodies_read_as_documented(status, activity, event):
    reading, mapped = carriers.read_body(preset_carrier(SHIPROCKET), shiprocket_body(status, activity=activity))
    assert (reading.tracking_number, reading.status, reading.time) == ("1490110123456", status, "04 12 2026 10:02:11")
    assert mapped == event
    assert reading.reason == (activity or status)
    assert reading.dedupe_key(b"") == f"scan:1490110123456|{status}|04 12 2026 10:02:11"


@pytest.mark.parametrize(
    ("status", "kind", "nsl", "read_as", "event"),
    [
        ("Manifested", "UD", "X-UCI", "UD/Manifested", ""),
        ("In Transit", "UD", "X-PPOM", "UD/In Transit", "picked_up"),
        ("Pending", "UD", "X-IBD3F", "UD/Pending", "in_transit"),
        ("Dispatched", "UD", "X-DDD3FD", "UD/Dispatched", "out_for_delivery"),
        ("Delivered", "DL", "EOD-38", "DL/Delivered", "delivered"),
        ("Pending", "UD", "EOD-11", "UD/Pending/EOD", "delivery_failed"),
        ("In Transit", "RT", "X-RTO", "RT/In Transit", "returning"),
        ("RTO", "DL", "RD-AC", "DL/RTO", "returned"),
    ],
)
def test_delhivery_scans_read_as_documented(status, kind, nsl, read_as, event):
    body = delhivery_body(status, kind, nsl=nsl, note="Consignee refused")
    reading, mapped = carriers.read_body(preset_carrier(DELHIVERY), body)
    assert (reading.tracking_number, reading.status, reading.order_reference) == ("1490110123456", read_as, "28")
    assert (mapped, reading.time, reading.reason) == (event, "2026-12-04T10:02:42.767", "Consignee refused")


def test_a_body_of_another_shape_reads_as_nothing_never_an_error():
    for preset in (SHIPROCKET, DELHIVERY):
        for body in ({}, {"Shipment": "x"}, {"awb": {"deep": [1]}, "scans": "none"}):
            reading, mapped = carriers.read_body(preset_carrier(preset), body)
            assert (reading.tracking_number, mapped) == ("", "")
