"""Sends one example event of every type to Crossdock, as one signed batch.

The examples are the ones the product documents (docs/events.md): each
type's JSON Schema at /api/v1/schemas/<type> carries it. The CloudEvents SDK
builds the events, the Standard Webhooks library signs the request.

    pip install -r requirements.txt
    CROSSDOCK_URL=http://127.0.0.1:3000 CROSSDOCK_KEY=<the source's API key> \
    CROSSDOCK_SIGNING_SECRET=<its whsec_ secret, if it signs> \
    CROSSDOCK_SOURCE=wms/dc-atl python send.py [--dry-run]

Prints the answer; exits 1 unless every event was accepted.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, timezone

import requests
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks import Webhook

BATCH = "application/cloudevents-batch+json"


def examples(url: str) -> list[dict]:
    """The documented example of every type a source may send."""
    listed = requests.get(f"{url}/api/v1/schemas", timeout=10)
    listed.raise_for_status()
    found = []
    for entry in listed.json()["schemas"]:
        schema = requests.get(url + entry["href"], timeout=10)
        schema.raise_for_status()
        found.append(schema.json()["examples"][0])
    return found


def as_event(example: dict, source: str) -> CloudEvent:
    """The example as a CloudEvent of this sender, with an id of its own."""
    attributes = {k: v for k, v in example.items() if k != "data"}
    attributes.update(id=str(uuid.uuid4()), source=source)
    # The SDK holds the time as a datetime, and writes it in RFC 3339.
    attributes["time"] = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
    return CloudEvent(attributes, example["data"])


def main() -> int:
    url = os.environ.get("CROSSDOCK_URL", "http://127.0.0.1:3000").rstrip("/")
    key = os.environ["CROSSDOCK_KEY"]
    secret = os.environ.get("CROSSDOCK_SIGNING_SECRET")
    source = os.environ.get("CROSSDOCK_SOURCE", "wms/dc-atl")

    events = [as_event(e, source) for e in examples(url)]
    body = b"[" + b",".join(JSONFormat().write(e) for e in events) + b"]"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": BATCH}
    if "--dry-run" in sys.argv[1:]:
        headers["crossdock-dry-run"] = "true"
    if secret:
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(timezone.utc)
        headers.update({
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode()),
        })

    answer = requests.post(f"{url}/api/v1/events", data=body, headers=headers, timeout=30)
    print(answer.status_code, json.dumps(answer.json(), indent=1))
    ok = answer.status_code == 200 and answer.json().get("accepted") == len(events)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
