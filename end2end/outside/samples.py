"""Events that follow the wire contract, built with the CloudEvents SDK, and
the ways a sender puts them on the wire: structured, batch and binary mode,
signed or not."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from cloudevents.core.bindings.http import HTTPMessage, to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks import Webhook

EVENTS = "/api/v1/events"
BATCH = "application/cloudevents-batch+json"
PROBLEM = "application/problem+json"

FORMAT = JSONFormat()
OCCURRED = datetime(2026, 11, 24, 15, 42, 10, tzinfo=timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


def event(source: str, type_: str, data: dict | bytes, *, id: str | None = None, **attributes) -> CloudEvent:
    """An event of the contract: `time` is the business occurrence."""
    base = {"id": id or new_id(), "source": source, "type": type_, "time": OCCURRED, "specversion": "1.0"}
    return CloudEvent({**base, **attributes}, data)


def partial_receipt_data(po: str, *, received_qty: int = 192) -> dict:
    return {
        "site": "DC-ATL",
        "refs": {"po": po, "asn": "ASN-55120", "supplier": "SUP-017", "item": "SKU-20418"},
        "po": po,
        "line": 2,
        "item": "SKU-20418",
        "expected_qty": 240,
        "received_qty": received_qty,
        "summary": f"{240 - received_qty} EA short on {po} line 2",
    }


def partial_receipt(source: str, po: str | None = None, **attributes) -> CloudEvent:
    """`exception.partial_receipt`; a new PO opens a new exception."""
    po = po or f"PO-{uuid.uuid4().hex[:8]}"
    return event(source, "exception.partial_receipt", partial_receipt_data(po), subject=po, **attributes)


def integration_failure_data(order: str) -> dict:
    return {
        "site": "DC-DAL",
        "refs": {"order": order, "shipment": "SHP-4471", "carrier": "ODFL"},
        "system": "carrier",
        "operation": "tms.create_shipment",
        "error_code": "timeout",
        "message": "carrier rating API did not answer within 30 s",
        "retryable": True,
        "attempts": 3,
        "payload": {"shipment": "SHP-4471", "carrier": "ODFL", "service": "LTL", "pallets": 4},
    }


def integration_failure(source: str, order: str | None = None, **attributes) -> CloudEvent:
    """`exception.integration`, the contract's binary-mode example."""
    order = order or f"SO-{uuid.uuid4().hex[:8]}"
    return event(source, "exception.integration", integration_failure_data(order), **attributes)


def po_created(source: str, po: str | None = None, **attributes) -> CloudEvent:
    """`po.created`: a milestone, which opens no exception."""
    po = po or f"PO-{uuid.uuid4().hex[:8]}"
    data = {
        "site": "DC-ATL",
        "refs": {"po": po, "supplier": "SUP-017"},
        "supplier": "SUP-017",
        "lines": [{"line": 1, "item": "SKU-20418", "qty": 240, "uom": "EA", "requested_date": "2026-12-01"}],
    }
    return event(source, "po.created", data, **attributes)


def structured(e: CloudEvent) -> HTTPMessage:
    return to_structured(e, FORMAT)


def binary(e: CloudEvent) -> HTTPMessage:
    """Binary mode as the SDK writes it: without `datacontenttype` it sends
    no Content-Type header."""
    return to_binary(e, FORMAT)


def batch(events: list[CloudEvent]) -> HTTPMessage:
    """Batch mode: a JSON array of the SDK's structured events (the SDK has
    no batch helper)."""
    body = b"[" + b",".join(FORMAT.write(e) for e in events) + b"]"
    return HTTPMessage(headers={"content-type": BATCH}, body=body)


def as_json(e: CloudEvent) -> dict:
    """The event as the structured format writes it, to change by hand."""
    return json.loads(FORMAT.write(e))


def raw_structured(attributes: dict) -> HTTPMessage:
    """A structured event written by hand, for what the SDK refuses to build."""
    return HTTPMessage(headers={"content-type": FORMAT.get_content_type()}, body=json.dumps(attributes).encode())


def signature_headers(secret: str, body: bytes, *, msg_id: str | None = None, at: datetime | None = None) -> dict:
    """Standard Webhooks headers signing `body`, made by the reference library."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }
