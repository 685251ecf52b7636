"""What an outside sender sees: events built with the CloudEvents SDK, signed
with the Standard Webhooks reference library, posted with `requests`.

The tests after "Hardening" state what the server is required to do by the
ingest hardening issue, whether or not it does it yet."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cloudevents.core.bindings.http import HTTPMessage

from harness import Crossdock, Source
from samples import (
    BATCH,
    EVENTS,
    PROBLEM,
    as_json,
    batch,
    binary,
    event,
    integration_failure,
    new_id,
    partial_receipt,
    partial_receipt_data,
    po_created,
    raw_structured,
    signature_headers,
    structured,
)


def send(server: Crossdock, source: Source, message: HTTPMessage, headers: dict | None = None) -> requests.Response:
    """Posts a message as `source`, signed when the source signs."""
    sent = {**source.auth, **message.headers}
    if source.secret:
        sent.update(signature_headers(source.secret, message.body))
    sent.update(headers or {})
    return requests.post(server.url + EVENTS, data=message.body, headers=sent, timeout=10)


# Headers every request and answer carries, left out of failure messages.
QUIET = {"user-agent", "accept", "accept-encoding", "connection", "authorization", "date", "x-request-id"}


def shorten(value, limit: int = 160) -> str:
    text = repr(value) if isinstance(value, bytes) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def exchange(response: requests.Response) -> str:
    """The request and its answer, for a failure message."""
    request = response.request
    body = request.body or b""
    body = body if isinstance(body, bytes) else body.encode()
    shown = {k: shorten(v) for k, v in request.headers.items() if k.lower() not in QUIET}
    answered = {k: v for k, v in response.headers.items() if k.lower() not in QUIET}
    return (
        f"\n--> {request.method} {request.url}\n{json.dumps(shown, indent=1, ensure_ascii=False)}\n{body[:600]!r}"
        f"\n<-- {response.status_code}\n{json.dumps(answered, indent=1)}\n{response.text[:600]}"
    )


def accepted(response: requests.Response) -> dict:
    """The answer to one event that was accepted."""
    assert response.status_code == 200, exchange(response)
    answer = response.json()
    assert answer["status"] == "accepted", exchange(response)
    return answer


def problem(response: requests.Response, *statuses: int) -> dict:
    """An RFC 9457 problem answer with one of the given statuses."""
    assert response.status_code in statuses, exchange(response)
    assert response.headers.get("content-type", "").startswith(PROBLEM), exchange(response)
    body = response.json()
    assert body.get("status") == response.status_code and body.get("title"), exchange(response)
    return body


def stored(server: Crossdock, column: str, source: str, event_id: str):
    """A column of a stored event, read from the database file."""
    with closing(sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)) as db:
        row = db.execute(
            f"SELECT {column} FROM events WHERE source = ? AND event_id = ?", (source, event_id)
        ).fetchone()
    return row[0] if row else None


# What every sender relies on today.


def test_a_structured_event_from_the_sdk_opens_an_exception(server):
    erp = server.sources["erp"]
    answer = accepted(send(server, erp, structured(partial_receipt("erp/sap-prod"))))
    assert isinstance(answer["exception_id"], int) and answer["exception"] == "opened", answer


def test_a_binary_event_with_its_content_type_opens_an_exception(server):
    erp = server.sources["erp"]
    e = integration_failure(
        "erp/sap-prod",
        datacontenttype="application/json",
        correlationid="order:SO-77812",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    answer = accepted(send(server, erp, binary(e)))
    assert answer["id"] == e.get_id() and isinstance(answer["exception_id"], int), answer
    assert stored(server, "correlation_id", "erp/sap-prod", e.get_id()) == "order:SO-77812"


def test_a_batch_is_answered_event_by_event_and_stores_its_valid_events(server):
    erp = server.sources["erp"]
    exception, milestone = partial_receipt("erp/sap-prod"), po_created("erp/sap-prod")
    broken = event(
        "erp/sap-prod", "exception.partial_receipt", {**partial_receipt_data("PO-9"), "expected_qty": "many"}
    )
    response = send(server, erp, batch([exception, milestone, broken]))
    assert response.status_code == 200, exchange(response)
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (2, 0, 1), exchange(response)
    first, second, third = answer["results"]
    assert first["status"] == "accepted" and isinstance(first["exception_id"], int), first
    assert second["status"] == "accepted" and "exception_id" not in second, second
    assert third["status"] == "rejected" and third["status_code"] == 400, third
    assert any(e["pointer"] == "/2/data/expected_qty" for e in third["errors"]), third
    assert stored(server, "type", "erp/sap-prod", milestone.get_id()) == "po.created"


def test_a_repeated_event_is_answered_duplicate_in_every_mode(server):
    erp = server.sources["erp"]
    e = partial_receipt("erp/sap-prod", datacontenttype="application/json")
    accepted(send(server, erp, structured(e)))
    for message in (structured(e), binary(e)):
        response = send(server, erp, message)
        assert response.status_code == 200 and response.json()["status"] == "duplicate", exchange(response)
    response = send(server, erp, batch([po_created("erp/sap-prod"), e]))
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"], exchange(response)


def test_the_same_event_twice_in_one_batch_is_stored_once(server):
    erp = server.sources["erp"]
    e = po_created("erp/sap-prod")
    response = send(server, erp, batch([e, e]))
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"], exchange(response)


def test_a_repeat_of_an_open_problem_is_counted_on_its_exception(server):
    erp = server.sources["erp"]
    first = accepted(send(server, erp, structured(partial_receipt("erp/sap-prod", po="PO-10045"))))
    again = accepted(send(server, erp, structured(partial_receipt("erp/sap-prod", po="PO-10045"))))
    assert again["exception"] == "occurrence" and again["exception_id"] == first["exception_id"], (first, again)


@pytest.mark.parametrize("mode", ["structured", "binary", "batch"])
def test_a_signed_request_is_accepted_in_every_mode(server, mode):
    mw = server.sources["mw"]
    e = integration_failure("mw/integration-hub", datacontenttype="application/json")
    message = {"structured": structured, "binary": binary, "batch": lambda e: batch([e])}[mode](e)
    response = send(server, mw, message)
    assert response.status_code == 200, exchange(response)
    answer = response.json()["results"][0] if mode == "batch" else response.json()
    assert answer["status"] == "accepted" and isinstance(answer["exception_id"], int), exchange(response)


def test_a_wrong_signature_is_refused_with_a_problem_and_nothing_is_stored(server):
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    wrong = signature_headers(other, message.body)
    body = problem(send(server, mw, message, headers=wrong), 401)
    assert "signature" in body["detail"], body
    # The same message, now properly signed, is new to the server.
    accepted(send(server, mw, message))


def test_a_signature_of_another_body_is_refused(server):
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    tampered = HTTPMessage(message.headers, message.body.replace(b"ODFL", b"SAIA"))
    headers = signature_headers(mw.secret, message.body)
    problem(send(server, mw, tampered, headers=headers), 401)


def test_an_unsigned_request_of_a_signing_source_is_refused(server):
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    unsigned = {**mw.auth, **message.headers}
    response = requests.post(server.url + EVENTS, data=message.body, headers=unsigned, timeout=10)
    assert "webhook-id" in problem(response, 401)["detail"], exchange(response)


def test_a_stale_signature_is_refused(server):
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    stale = signature_headers(mw.secret, message.body, at=datetime.now(timezone.utc) - timedelta(minutes=6))
    problem(send(server, mw, message, headers=stale), 401)


def test_binary_header_names_are_case_insensitive(server):
    erp = server.sources["erp"]
    e = integration_failure("erp/sap-prod", datacontenttype="application/json")
    message = binary(e)
    headers = {name.replace("ce-", "CE-"): value for name, value in message.headers.items()}
    headers["ce-CorrelationID"] = "order:SO-1"
    accepted(send(server, erp, HTTPMessage(headers, message.body)))
    assert stored(server, "correlation_id", "erp/sap-prod", e.get_id()) == "order:SO-1"


# Hardening: what the server is required to do (some of it not yet done).


def test_binary_mode_without_content_type_is_accepted(server):
    """The SDK sends no Content-Type when `datacontenttype` is unset; the
    body is the contract's JSON `data`."""
    erp = server.sources["erp"]
    message = binary(integration_failure("erp/sap-prod"))
    assert "content-type" not in {k.lower() for k in message.headers}, message.headers
    answer = accepted(send(server, erp, message))
    assert isinstance(answer["exception_id"], int), answer


def base64_event(source: str, data: dict):
    """An event whose data the SDK writes as `data_base64` (it is bytes)."""
    return event(source, "exception.partial_receipt", json.dumps(data).encode(), datacontenttype="application/json")


def test_data_base64_is_accepted_in_structured_mode(server):
    """`data_base64` holding the contract's JSON is decoded and accepted."""
    erp = server.sources["erp"]
    message = structured(base64_event("erp/sap-prod", partial_receipt_data("PO-64")))
    assert b'"data_base64"' in message.body and b'"data"' not in message.body, message.body
    answer = accepted(send(server, erp, message))
    assert isinstance(answer["exception_id"], int), answer


def test_data_base64_is_accepted_in_batch_mode(server):
    """The same in a batch, beside an event that carries `data`."""
    erp = server.sources["erp"]
    message = batch([base64_event("erp/sap-prod", partial_receipt_data("PO-65")), partial_receipt("erp/sap-prod")])
    response = send(server, erp, message)
    assert response.status_code == 200, exchange(response)
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "accepted"], exchange(response)


def test_data_base64_is_validated_like_data(server):
    """Decoded data that breaks the contract is refused, naming the field."""
    erp = server.sources["erp"]
    bad = {**partial_receipt_data("PO-66"), "expected_qty": "many"}
    response = send(server, erp, structured(base64_event("erp/sap-prod", bad)))
    assert "expected_qty" in json.dumps(problem(response, 400)), exchange(response)


@pytest.mark.parametrize("mode", ["structured", "batch"])
def test_an_upper_case_attribute_name_is_refused(server, mode):
    """CloudEvents attribute names are lower-case letters and digits;
    `CorrelationId` is not the `correlationid` extension."""
    erp = server.sources["erp"]
    attributes = {**as_json(partial_receipt("erp/sap-prod")), "CorrelationId": "po:PO-1"}
    if mode == "structured":
        problem(send(server, erp, raw_structured(attributes)), 400)
    else:
        message = HTTPMessage({"content-type": BATCH}, json.dumps([attributes]).encode())
        response = send(server, erp, message)
        result = response.json()["results"][0]
        assert result["status"] == "rejected" and result["status_code"] == 400, exchange(response)


@pytest.mark.parametrize("value", ["x-%FF", "x-%FE"])
def test_a_percent_encoded_id_that_is_not_utf8_is_refused(server, value):
    """Percent-decoding `ce-id` must give UTF-8, not replacement characters."""
    erp = server.sources["erp"]
    message = binary(integration_failure("erp/sap-prod", datacontenttype="application/json"))
    problem(send(server, erp, message, headers={"ce-id": value}), 400)


def test_raw_non_ascii_bytes_in_a_ce_header_are_refused_naming_the_header(server):
    """A header that is not visible ASCII is not silently dropped."""
    erp = server.sources["erp"]
    message = binary(integration_failure("erp/sap-prod", datacontenttype="application/json"))
    response = send(server, erp, message, headers={"ce-subject": "PO-10045-ü".encode()})
    body = problem(response, 400)
    assert "ce-subject" in json.dumps(body), exchange(response)


@pytest.mark.parametrize(
    "attribute, value",
    [("id", "evt-\x00-1"), ("subject", "PO-\x1b[31m"), ("source", "erp/\x7f"), ("correlationid", "po:\u0085")],
)
def test_control_characters_in_a_context_attribute_are_refused(server, attribute, value):
    """CloudEvents strings exclude U+0000-U+001F and U+007F-U+009F."""
    erp = server.sources["erp"]
    attributes = {**as_json(partial_receipt("erp/sap-prod")), attribute: value}
    problem(send(server, erp, raw_structured(attributes)), 400)


def test_a_percent_encoded_nul_in_a_ce_header_is_refused(server):
    """The same in binary mode, where the NUL arrives percent-encoded."""
    erp = server.sources["erp"]
    message = binary(integration_failure("erp/sap-prod", datacontenttype="application/json"))
    problem(send(server, erp, message, headers={"ce-subject": "PO%00-1"}), 400)


@pytest.mark.parametrize("timestamp", ["-9223372036854775808", "9223372036854775807"])
def test_an_extreme_webhook_timestamp_gets_a_problem_not_a_dropped_connection(server, timestamp):
    """The ends of i64 must not overflow the staleness check."""
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    headers = {**signature_headers(mw.secret, message.body), "webhook-timestamp": timestamp}
    try:
        response = send(server, mw, message, headers=headers)
    except requests.ConnectionError as err:
        pytest.fail(f"the server dropped the connection instead of answering: {err}")
    problem(response, *range(400, 500))
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200


def test_a_signature_header_with_ten_thousand_candidates_is_refused_quickly(server):
    """Checking every candidate costs an HMAC each: the server must cap
    them, even when the last one is right."""
    mw = server.sources["mw"]
    message = structured(integration_failure("mw/integration-hub"))
    headers = signature_headers(mw.secret, message.body)
    headers["webhook-signature"] = " ".join(["v1,AAAA"] * 9_999 + [headers["webhook-signature"]])
    started = time.monotonic()
    response = send(server, mw, message, headers=headers)
    elapsed = time.monotonic() - started
    assert 400 <= response.status_code < 500, exchange(response)
    assert elapsed < 1.0, f"answered in {elapsed:.2f} s"


def test_a_signed_request_replayed_with_another_ce_id_is_refused(server):
    """The signature covers `webhook-id`, timestamp and body, not the
    `ce-*` headers: a second use of the same `webhook-id` is a replay."""
    mw = server.sources["mw"]
    message = binary(integration_failure("mw/integration-hub", datacontenttype="application/json"))
    signed = signature_headers(mw.secret, message.body)
    accepted(send(server, mw, message, headers=signed))
    replay = send(server, mw, message, headers={**signed, "ce-id": new_id()})
    assert 400 <= replay.status_code < 500, exchange(replay)


@pytest.mark.parametrize("source", ["wms", "wms/dc-atl"])
def test_a_source_writes_under_its_prefix(server, source):
    """The prefix itself and what continues it after `/`."""
    accepted(send(server, server.sources["wms"], structured(partial_receipt(source))))


def test_a_prefix_ends_at_a_slash(server):
    """`wms` is not a prefix of `wms-eu/x`: that is another system."""
    response = send(server, server.sources["wms"], structured(partial_receipt("wms-eu/x")))
    assert problem(response, 403)["pointer"] == "/source", exchange(response)


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v1/events", 405),
        ("PUT", "/api/v1/events", 405),
        ("PATCH", "/api/v1/events", 405),
        ("DELETE", "/api/v1/events", 405),
        ("GET", "/api/nothing-here", 404),
        ("GET", "/api/v1/events/1", 404),
        ("POST", "/api/v1/nothing-here", 404),
        ("GET", "/api/v2/events", 404),
    ],
)
def test_unknown_api_routes_and_methods_answer_a_problem(server, method, path, status):
    """Under /api/ every answer is for programs, errors included. (Other
    state changes outside /api/v1/ meet the same-origin guard first: 403.)"""
    response = requests.request(method, server.url + path, headers=server.sources["erp"].auth, timeout=10)
    problem(response, status)
