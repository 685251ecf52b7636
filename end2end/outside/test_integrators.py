"""The event contract as an integrator's own tools see it: the example
senders of `examples/` run as written, and a validator that follows the
published JSON Schemas (jsonschema, 2020-12) gives the same verdict as the
server on a corpus of bad events."""

from __future__ import annotations

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

    def add(event: dict) -> None:
        event = copy.deepcopy(event)
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
    return events


def test_the_schemas_refuse_what_the_server_refuses(server):
    types = schemas(server)
    events = corpus(types)
    wms = server.sources["wms"]
    for event in events:
        event["source"] = "wms/dc-atl"
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
