#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into fuzz/corpus/<target>/.

The seeds are the starting points the fuzzer mutates: valid events of the
contract (one per type), binary-mode requests and signature headers. The
binary_headers and webhook_headers targets read their input with the
`arbitrary` crate, so their seeds are written in its byte layout (version 1.5,
pinned by fuzz/Cargo.lock); `cargo fuzz fmt <target> <file>` prints how a
target reads a file. Run again after changing the targets' input types.
"""

import base64
import json
import pathlib
import shutil
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def envelope(event_type, data, **attributes):
    return {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "wms/dc-atl",
        "type": event_type,
        "time": "2026-11-24T15:42:10Z",
        **attributes,
        "data": data,
    }


# A valid `data` for every type of the contract (as in src/event/tests.rs).
EXAMPLES = {
    "po.created": {"site": "DC-ATL", "refs": {"po": "PO-1"}, "supplier": "SUP-017",
                   "lines": [{"line": 1, "item": "SKU-1", "qty": 240, "uom": "EA",
                              "requested_date": "2026-12-01"}]},
    "po.acknowledged": {"refs": {"po": "PO-1"}, "supplier": "SUP-017",
                        "lines": [{"line": 1, "status": "changed", "qty": 200,
                                   "promised_date": "2026-12-09"}]},
    "asn.received": {"refs": {"po": "PO-1"}, "asn": "ASN-1", "eta": "2026-12-08T10:00:00-05:00",
                     "lines": [{"line": 1, "item": "SKU-1", "qty": 200}]},
    "receipt.posted": {"refs": {"po": "PO-1"}, "receipt": "RCV-1",
                       "lines": [{"line": 1, "item": "SKU-1", "qty_received": 192, "lot": "L-7"}]},
    "putaway.completed": {"receipt": "RCV-1", "item": "SKU-1", "qty": 192, "bin": "A-01-01"},
    "inventory.snapshot": {"item": "SKU-1", "erp_qty": 100, "wms_qty": 100},
    "order.released": {"order": "SO-1", "customer": "CUST-1", "channel": "edi",
                       "lines": [{"line": 1, "item": "SKU-1", "qty": 4}]},
    "order.allocated": {"order": "SO-1", "lines": [{"line": 1, "item": "SKU-1", "qty_allocated": 4}]},
    "pick.completed": {"order": "SO-1", "lines": [{"line": 1, "item": "SKU-1", "qty_picked": 4}]},
    "shipment.dispatched": {"shipment": "SHP-1", "carrier": "ODFL", "tracking": "1Z999",
                            "orders": ["SO-1"]},
    "shipment.in_transit": {"shipment": "SHP-1", "location": "Memphis, TN"},
    "delivery.confirmed": {"shipment": "SHP-1", "delivered_at": "2026-11-26T14:05:00-06:00",
                           "signed_by": "J. Doe"},
    "invoice.posted": {"invoice": "INV-1", "order": "SO-1", "amount": 1234.5, "currency": "USD"},
    "exception.integration": {"site": "DC-DAL", "refs": {"order": "SO-77812", "shipment": "SHP-4471"},
                              "system": "carrier", "operation": "tms.create_shipment",
                              "error_code": "timeout", "http_status": 504,
                              "message": "carrier rating API did not answer within 30 s",
                              "retryable": True, "attempts": 3,
                              "payload": {"shipment": "SHP-4471", "pallets": 4}},
    "exception.partial_receipt": {"site": "DC-ATL", "refs": {"po": "PO-10045"}, "po": "PO-10045",
                                  "line": 2, "item": "SKU-20418", "expected_qty": 240,
                                  "received_qty": 192, "severity": "high"},
    "exception.supplier_date_change": {"po": "PO-1", "supplier": "SUP-1",
                                       "previous_date": "2026-12-01", "promised_date": "2026-12-09"},
    "exception.inventory_mismatch": {"item": "SKU-1", "erp_qty": 120, "wms_qty": 96, "bin": "A-12-03"},
    "exception.duplicate_event": {"original_id": "e-1", "duplicate_id": "e-2", "entity": "shipment"},
    "exception.allocation_failed": {"order": "SO-1", "item": "SKU-1", "requested_qty": 12,
                                    "available_qty": 4},
    "exception.invoice_trigger_failed": {"order": "SO-1", "error_code": "missing_tax_code",
                                         "message": "no tax code"},
}

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def event_seeds():
    seeds = {t: envelope(t, d) for t, d in EXAMPLES.items()}
    seeds["contract-example"] = envelope(
        "exception.partial_receipt",
        {"site": "DC-ATL",
         "refs": {"po": "PO-10045", "asn": "ASN-55120", "receipt": "RCV-90311",
                  "supplier": "SUP-017", "item": "SKU-20418"},
         "po": "PO-10045", "line": 2, "item": "SKU-20418", "expected_qty": 240, "received_qty": 192,
         "summary": "48 EA short on PO-10045 line 2"},
        subject="PO-10045", correlationid="po:PO-10045", traceparent=TRACEPARENT,
        datacontenttype="application/json; charset=utf-8", partnerext="kept")
    base64_event = envelope("inventory.snapshot", None)
    del base64_event["data"]
    base64_event["data_base64"] = base64.b64encode(
        json.dumps(EXAMPLES["inventory.snapshot"]).encode()).decode()
    seeds["data-base64"] = base64_event
    seeds["every-problem"] = {
        "specversion": "0.3", "source": "", "type": "exception.partial_receipt", "time": "yesterday",
        "Bad_Name": "x", "subject": "a\u0007b",
        "data": {"po": "PO-1", "line": 0, "item": 7, "expected_qty": -1, "refs": {"po": ""},
                 "severity": "urgent"}}
    return {name: json.dumps(value, indent=1).encode() for name, value in seeds.items()}


class Layout:
    """Bytes as `arbitrary::Unstructured` reads them: values from the front,
    lengths of strings and byte slices from the back, the last field taking
    whatever is left."""

    def __init__(self):
        self.items = []  # ("front", bytes) | ("len", n), in reading order

    def front(self, data):
        self.items.append(("front", bytes(data)))

    def u32(self, n):
        self.front(struct.pack("<I", n))

    def i64(self, n):
        self.front(struct.pack("<q", n))

    def flag(self, on):
        self.front(b"\x01" if on else b"\x00")

    def variant(self, index, count):
        """An enum variant: derive(Arbitrary) takes (u32 * count) >> 32."""
        self.u32(-(-index * 2**32 // count))

    def sized(self, data):
        """A `&str` or `&[u8]` that is not the last field."""
        self.items.append(("len", len(data)))
        self.front(data)

    def bytes(self, rest=b""):
        """Lays the values out, `rest` being the last field."""
        widths = [1] * len(self.items)
        while True:
            fronts = sum(len(v) for k, v in self.items if k == "front") + len(rest)
            total = fronts + sum(w for (k, _), w in zip(self.items, widths) if k == "len")
            remaining, new_widths = total, []
            for kind, value in self.items:
                if kind == "front":
                    remaining -= len(value)
                    new_widths.append(1)
                    continue
                width = 1 if remaining <= 256 else 2 if remaining <= 65537 else 4
                new_widths.append(width)
                remaining -= width
            if new_widths == widths:
                break
            widths = new_widths
        front, back = b"", b""
        for (kind, value), width in zip(self.items, widths):
            if kind == "front":
                front += value
            else:
                back = value.to_bytes(width, "big") + back
        return front + rest + back


ATTRIBUTES = ["specversion", "id", "source", "type", "time", "subject", "correlationid",
              "traceparent", "datacontenttype", "data", "data_base64"]


def request(headers, body=b""):
    """A binary_headers input: (name, value) pairs and a body. Names in
    ATTRIBUTES after `ce-` are the Attribute variant, other `ce-` names are
    Prefixed, the rest Other."""
    layout = Layout()
    for name, value in headers:
        layout.flag(True)
        attribute = name[3:] if name.startswith("ce-") else None
        if attribute in ATTRIBUTES:
            layout.variant(0, 3)
            layout.variant(ATTRIBUTES.index(attribute), len(ATTRIBUTES))
        elif attribute is not None:
            layout.variant(1, 3)
            layout.sized(attribute.encode())
        else:
            layout.variant(2, 3)
            layout.sized(name.encode())
        layout.sized(value if isinstance(value, bytes) else value.encode())
    layout.flag(False)
    return layout.bytes(body)


def binary_seeds():
    base = [("ce-specversion", "1.0"), ("ce-id", "evt-1"), ("ce-source", "wms/dc-atl"),
            ("ce-time", "2026-11-24T15:42:10Z")]
    receipt = json.dumps(EXAMPLES["exception.partial_receipt"]).encode()
    snapshot = json.dumps(EXAMPLES["inventory.snapshot"]).encode()
    return {
        "partial-receipt": request(
            base + [("ce-type", "exception.partial_receipt"), ("ce-subject", "PO-10045"),
                    ("content-type", "application/json")], receipt),
        "percent-encoded-extension": request(
            base + [("ce-type", "inventory.snapshot"), ("ce-subject", "caf%C3%A9%20PO%2010045"),
                    ("ce-correlationid", "po:PO-10045"), ("ce-traceparent", TRACEPARENT),
                    ("ce-partnerext", "100%"), ("webhook-id", "msg_1")], snapshot),
        "data-base64-header": request(
            base + [("ce-type", "inventory.snapshot"),
                    ("ce-data_base64", base64.b64encode(snapshot).decode())], b"null"),
        "bad-percent-encoding": request(base + [("ce-type", "inventory.snapshot"),
                                                ("ce-subject", "x-%FF")], snapshot),
        "raw-bytes-and-odd-names": request(
            [("CE-ID", "e-1"), ("ce_source", "wms"), ("ce-", "x"), ("ce-Subject", "PO\t1"),
             ("ce-subject", "PO-10045-\u00fc")], b"{}"),
    }


def signature_headers(now, timestamp, signature):
    layout = Layout()
    layout.i64(now)
    layout.sized(timestamp.encode())
    return layout.bytes(signature.encode())


def webhook_seeds():
    now = 1_800_000_000
    sig = "v1," + base64.b64encode(bytes(range(32))).decode()
    return {
        "one-signature": signature_headers(now, str(now - 30), sig),
        "rotating-secrets": signature_headers(now, f" {now + 299} ", f"v1,AAAA v2,{sig[3:]} {sig}"),
        "stale": signature_headers(now, str(now - 301), "v1,!!! v1,"),
        "extreme-clock": signature_headers(-2**63, "9223372036854775807", " ".join(["v1,AAAA"] * 9)),
        "not-a-number": signature_headers(now, "soon", "v1"),
    }


def main():
    for target, seeds in [("event_parse", event_seeds()), ("binary_headers", binary_seeds()),
                          ("webhook_headers", webhook_seeds())]:
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
