"""What an outside receiver of notifications sees: an admin sets up a JSON
webhook channel in the console, and the message its test sends verifies with
the Standard Webhooks reference library, as any receiver would check it."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import requests
from standardwebhooks import Webhook

from harness import Crossdock, crossdock_binary

ADMIN, PASSWORD = "outside-admin", "a-long-outside-password-42"


class Receiver(BaseHTTPRequestHandler):
    """Keeps every message it is sent and answers 200."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (the handler's name is fixed)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def admin_session(server: Crossdock) -> requests.Session:
    """An admin created with the command line, signed in to the console."""
    subprocess.run(
        [str(crossdock_binary()), "user", "create", ADMIN, "--role", "admin"],
        input=PASSWORD + "\n",
        env=server.env(),
        cwd=server.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    session = requests.Session()
    session.headers["origin"] = server.url
    r = session.post(f"{server.url}/console/login", data={"username": ADMIN, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return session


def test_a_channel_message_verifies_with_the_standard_webhooks_library(server: Crossdock):
    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        session = admin_session(server)
        url = f"http://127.0.0.1:{receiver.server_port}/hooks/crossdock"
        spec = {"name": "outside", "kind": "webhook", "url": url}
        r = session.post(f"{server.url}/console/save_channel", json={"spec": spec}, timeout=10)
        assert r.status_code == 200, r.text
        secret = r.json()
        assert secret and secret.startswith("whsec_")
        r = session.post(f"{server.url}/console/test_channel", data={"name": "outside"}, timeout=10)
        assert r.status_code == 200, r.text

        deadline = time.monotonic() + 15
        while not Receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Receiver.received, "the test message arrived"
        headers, body = Receiver.received[0]
        payload = Webhook(secret).verify(body, headers)
        assert payload["type"] == "notification.test"
        assert payload["data"]["title"] == "A test message to outside"
        assert json.loads(body) == payload

        other = Webhook("whsec_" + "QUJD" * 8)
        try:
            other.verify(body, headers)
        except Exception:  # noqa: BLE001 (the library raises its own verification error)
            pass
        else:
            raise AssertionError("a message must not verify with another secret")
    finally:
        receiver.shutdown()
