"""The event contract as an integrator's own tools see it: the example
senders of `examples/` run as written, and a validator that follows the
published JSON Schemas (jsonschema, 2020-12) gives the same verdict as the
server on a corpus of bad events."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess
import sys

import jsonschema
import requests

from harness import REPO

BATCH = "application/cloudevents-batch+json"


def run_example(server, command: list[str], source: str, *extra: str) -> subprocess.CompletedProcess:
    """Runs an example sender as the signing source `mw`, its events under `source`."""
    mw = server.sources["mw"]
    env = {
        **os.environ,
        "CROSSDOCK_URL": server.url,
        "CROSSDOCK_KEY": mw.key,
        "CROSSDOCK_SIGNING_SECRET": mw.secret,
        "CROSSDOCK_SOURCE": source,
    }
    return subprocess.run([*command, *extra], env=env, capture_output=True, text=True, timeout=60)


def schemas(server) -> dict[str, dict]:
    listed = requests.get(server.url + "/api/v1/schemas", timeout=10).json()["schemas"]
    return {s["type"]: requests.get(server.url + s["href"], timeout=10).json() for s in listed}


def test_the_python_example_sends_one_event_of_every_type(server):
    types = schemas(server)
    done = run_example(server, [sys.executable, str(REPO / "examples" / "python" / "send.py")], "mw/hub")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f'"accepted": {len(types)}' in done.stdout, done.stdout


def test_the_node_example_sends_one_event_of_every_type(server):
    types = schemas(server)
    tried = run_example(server, ["node", str(REPO / "examples" / "node" / "send.mjs")], "mw/hub", "--dry-run")
    assert tried.returncode == 0, tried.stdout + tried.stderr
    assert '"forecast"' in tried.stdout, "a dry run says what each would do"
    done = run_example(server, ["node", str(REPO / "examples" / "node" / "send.mjs")], "mw/hub")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f'"accepted": {len(types)}' in done.stdout, done.stdout


def wrong_type(value):
    """A value of another JSON type than `value`."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "12"
    if isinstance(value, str):
        return 12
    return "x"


def corpus(types: dict[str, dict]) -> list[dict]:
    """Each type's example, then the example broken in one place at a time."""
    events = []

    def add(event: dict, keep_id: bool = False) -> None:
        event = copy.deepcopy(event)
        if not keep_id:
            event["id"] = f"corpus-{len(events)}"
        events.append(event)

    for schema in types.values():
        example = schema["examples"][0]
        add(example)
        for name, value in example["data"].items():
            broken = copy.deepcopy(example)
            del broken["data"][name]
            add(broken)
            for bad in [wrong_type(value), None, "", " ", "k" * 300, -1, 1e16, "nonsense", [], {}]:
                broken = copy.deepcopy(example)
                broken["data"][name] = bad
                add(broken)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                for field, inner in value[0].items():
                    for bad in [wrong_type(inner), None, "", -1, "nonsense"]:
                        broken = copy.deepcopy(example)
                        broken["data"][name][0][field] = bad
                        add(broken)
                    broken = copy.deepcopy(example)
                    del broken["data"][name][0][field]
                    add(broken)
        for attribute, bad in [
            ("specversion", "0.3"), ("time", "yesterday"), ("time", "2026-13-01T00:00:00Z"),
            ("time", "2026-11-24T15:42:10"), ("type", "po.deleted"), ("subject", ""), ("correlationid", " "),
            ("traceparent", "00-0-0-00"), ("Bad-Name", "x"), ("datacontenttype", "text/plain"), ("data", None),
            ("data", "text"), ("specversion", None),
        ]:
            broken = copy.deepcopy(example)
            broken[attribute] = bad
            add(broken)
        for attribute, value in EDGES:
            edged = copy.deepcopy(example)
            if attribute == "id" and len(value) > 200:
                # A long id of the same length, and one of its own: an id
                # seen twice in a request is a duplicate.
                mark = f"{len(events)}-"
                value = mark + value[len(mark):]
            edged[attribute] = value
            add(edged, keep_id=attribute == "id")
        for name, value in example["data"].items():
            if isinstance(value, str) and name in DATES:
                for edge in ["2026-12-9", "+2026-12-09", " 2026-12-09", "2026-12-09\n", "2026-02-30", "2026-12-09T10:00:00Z"]:
                    edged = copy.deepcopy(example)
                    edged["data"][name] = edge
                    add(edged)
            if isinstance(value, str):
                for edge in ["PO-1\n", "a\u0001b", "\u00a0", "x\u2028y"]:
                    edged = copy.deepcopy(example)
                    edged["data"][name] = edge
                    add(edged)
        for kind, value in [("po", 12), ("po", None), ("po", ""), ("po", "PO-1\n"), ("elsewhere", {"any": 1}),
                            ("order", "k" * 257)]:
            edged = copy.deepcopy(example)
            edged["data"].setdefault("refs", {})[kind] = value
            add(edged)
        for refs in [[], "po:PO-1", None, {}]:
            edged = copy.deepcopy(example)
            edged["data"]["refs"] = refs
            add(edged)
        # data_base64: what the SDKs write for bytes; alone it is read as data.
        encoded = base64.b64encode(json.dumps(example["data"]).encode()).decode()
        for with_data in [False, True]:
            edged = copy.deepcopy(example)
            if not with_data:
                del edged["data"]
            edged["data_base64"] = encoded
            add(edged)
        edged = copy.deepcopy(example)
        del edged["data"]
        edged["data_base64"] = 12
        add(edged)
    return events


# Fields of `data` that hold a day or a timestamp.
DATES = {"eta", "delivered_at", "promised_date", "previous_date"}

# Attributes at their edges: a validator and the server must agree on each.
EDGES = [
    ("id", "evt-1\n"), ("id", "k" * 256), ("id", "k" * 257), ("id", "\u3000"), ("id", "a\u0085b"),
    ("source", "wms/dc-atl\n"), ("source", " "),
    ("time", "2026-11-24T15:42:10Z\n"), ("time", "2026-11-24t15:42:10z"), ("time", "2026-11-24 15:42:10+01:00"),
    ("time", "2026-11-24T15:42:10.123456789Z"), ("time", "2026-11-24T15:42:10.1234567890Z"),
    ("time", "2026-11-24T15:42:60Z"), ("time", "+2026-11-24T15:42:10Z"), ("time", " 2026-11-24T15:42:10Z"),
    ("time", "2026-11-24T15:42:10+24:00"), ("time", "1969-12-31T23:59:59Z"), ("time", "2200-01-01T00:00:00Z"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4730-00f067aa0ba902b0-01"),
    ("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
    ("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
    ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n"),
    ("datacontenttype", "Application/JSON"), ("datacontenttype", " application/json ; charset=utf-8"),
    ("datacontenttype", "application/vnd.acme+json"), ("datacontenttype", "application/json\n"),
    ("datacontenttype", "application/xml"), ("datacontenttype", "x" * 300 + "+json"),
    ("correlationid", "po:PO-1\n"), ("subject", "k" * 257),
    ("ext", {"nested": True}), ("ext", [1, 2]), ("ext", "a\u0001"), ("ext", "fine"), ("ext", 12),
    ("Ext", "x"), ("e_x", "x"), ("e" * 64, "x"), ("e" * 65, "x"),
]


def test_the_schemas_refuse_what_the_server_refuses(server):
    types = schemas(server)
    events = corpus(types)
    wms = server.sources["wms"]
    assert all(s["examples"][0]["source"] == "wms/dc-atl" for s in types.values()), "examples under wms"
    verdicts = []
    for start in range(0, len(events), 500):
        part = events[start:start + 500]
        answer = requests.post(
            server.url + "/api/v1/events",
            data=json.dumps(part),
            headers={**wms.auth, "Content-Type": BATCH, "crossdock-dry-run": "true"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        verdicts += [r["status"] == "accepted" for r in answer.json()["results"]]
    disagreements = []
    for event, accepted in zip(events, verdicts):
        schema = types.get(event.get("type"))
        valid = schema is not None and jsonschema.Draft202012Validator(schema).is_valid(event)
        if valid != accepted:
            disagreements.append(f"schema {'accepts' if valid else 'refuses'}, server {'accepts' if accepted else 'refuses'}: {json.dumps(event)[:400]}")
    assert sum(verdicts) >= len(types), "every example is accepted"
    assert not disagreements, f"{len(disagreements)} of {len(events)} differ:\n" + "\n".join(disagreements[:20])
