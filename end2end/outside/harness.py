"""Running the real `crossdock` binary: a database in a folder, the senders
registered with the command line, and a server started, waited for, killed
and restarted on it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]

# Generous allowance: these tests are about answers, not the throttle.
RATE = 100_000
BURST = 100_000


def crossdock_binary() -> Path:
    """The binary under test: `$CROSSDOCK_BIN`, or the one `make test` links."""
    path = Path(os.environ.get("CROSSDOCK_BIN", REPO / "target" / "bin" / "crossdock")).absolute()
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no crossdock binary at {path}: build it or set CROSSDOCK_BIN")
    return path


def free_port() -> int:
    """A port nothing listens on now: the one the kernel picks for port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Source:
    """A registered sender: its name, the prefix it may write under, its API
    key and, when it signs, its Standard Webhooks secret."""

    name: str
    prefix: str
    key: str
    secret: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class Crossdock:
    """One database folder and the server process running on it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.db = folder / "crossdock.db"
        # The key that seals the database's secrets lives beside it.
        self.key = folder / "crossdock.key"
        self.log = folder / "server.log"
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.sources: dict[str, Source] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The caller's environment without its Crossdock settings, and ours."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
        env.update(
            CROSSDOCK_DATABASE_URL=f"sqlite://{self.db}",
            CROSSDOCK_LOG=os.environ.get("CROSSDOCK_LOG", "warn"),
            CROSSDOCK_REPLAY_WORKERS="0",
            # A panic is one line in the log, not a page of backtrace.
            RUST_BACKTRACE="0",
        )
        if self.port is not None:
            env.update(CROSSDOCK_BIND=f"127.0.0.1:{self.port}", CROSSDOCK_PUBLIC_URL=self.url)
        return env

    def cli(self, *args: str) -> str:
        """Runs a command of the binary on this database; its standard output."""
        done = subprocess.run(
            [str(crossdock_binary()), *args],
            env=self.env(),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"crossdock {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def migrate(self) -> None:
        self.cli("migrate")

    def add_source(self, name: str, prefix: str, *, signed: bool = False) -> Source:
        """Registers a sender (and its signing secret); the key and secret are
        the last lines the commands print."""
        key = self.cli("source", "create", name, "--prefix", prefix, "--rate", str(RATE), "--burst", str(BURST))
        secret = self.cli("source", "sign", name).strip().splitlines()[-1] if signed else None
        source = Source(name, prefix, key.strip().splitlines()[-1], secret)
        self.sources[name] = source
        return source

    def copy_to(self, folder: Path) -> Crossdock:
        """A new folder holding a consistent copy of this database, its secret
        key and its senders."""
        other = Crossdock(folder)
        with closing(sqlite3.connect(self.db)) as src, closing(sqlite3.connect(other.db)) as dst:
            src.backup(dst)
        if self.key.exists():
            shutil.copy2(self.key, other.key)
        other.sources = dict(self.sources)
        return other

    def start(self, attempts: int = 3) -> None:
        """Starts `crossdock serve` on a free port and waits until it answers.
        The same port is kept across restarts while it stays free."""
        for _ in range(attempts):
            if self.port is None:
                self.port = free_port()
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(
                    [str(crossdock_binary()), "serve"],
                    env=self.env(),
                    cwd=self.folder,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self.wait_healthy():
                return
            # Lost the port to someone else, most likely: take another.
            self.kill()
            self.port = None
        raise RuntimeError(f"the server did not start; its log ends with:\n{self.log_tail()}")

    def wait_healthy(self, timeout: float = 20.0) -> bool:
        """Polls `/healthz` until it answers 200, or the process ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return True
            except requests.ConnectionError:
                pass
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> int | None:
        """SIGTERM and wait for the graceful shutdown; its exit code."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise RuntimeError("the server did not stop within 10 s of SIGTERM") from None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
