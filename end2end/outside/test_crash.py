"""Crash durability: concurrent senders post structured, batch and binary
events (new ones, and again ones already sent) while the server is SIGKILLed
at random moments and restarted on the same SQLite file. An event answered
`accepted` or `duplicate` was promised to be committed: at the end every such
event is stored exactly once, none was accepted a second time after a restart
(which would mean its first commit was lost), and the database is intact.

`CROSSDOCK_CRASH_KILLS` sets the number of kills under pytest (10 by
default). Run as a script, with the virtualenv's Python, for a long run that
prints the figures:

    target/venv/bin/python end2end/outside/test_crash.py --kills 500
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cloudevents.core.v1.event import CloudEvent
from urllib3.exceptions import NewConnectionError

from harness import Crossdock
from samples import EVENTS, batch, binary, integration_failure, partial_receipt, po_created, structured

CLIENTS = 4
# A small set of POs, so that repeats of open problems (occurrences) are
# written in the same group commits as new exceptions.
POS = [f"PO-{n}" for n in range(40)]
RECENT = 5000

# Called after each kill with the number of kills so far.
Progress = Callable[[int, "Ledger"], None]


@dataclass
class Ledger:
    """What the senders sent and were told, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: set[tuple[str, str]] = field(default_factory=set)
    # The latest events sent, the ones senders send again.
    recent: deque[CloudEvent] = field(default_factory=lambda: deque(maxlen=RECENT))
    accepted: set[tuple[str, str]] = field(default_factory=set)
    acknowledged: set[tuple[str, str]] = field(default_factory=set)
    accepted_again: list[tuple[str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    requests: int = 0
    answered: int = 0
    duplicate_answers: int = 0
    refused: int = 0
    cut: int = 0

    def answer(self, mode: str, events: list[CloudEvent], response: requests.Response) -> None:
        """Records the answer to one request: one per event."""
        with self.lock:
            try:
                answer = response.json()
                results = answer["results"] if mode == "batch" else [answer]
                if response.status_code != 200 or len(results) != len(events):
                    raise ValueError("not one answer per event")
            except (ValueError, KeyError, TypeError) as err:
                self.unexpected.append(f"{mode}: {response.status_code} {response.text[:300]} ({err})")
                return
            self.answered += 1
            for e, result in zip(events, results, strict=True):
                self.record(e, result)

    def record(self, e: CloudEvent, answer: dict) -> None:
        """One event's answer (under the lock)."""
        key = (e.get_source(), e.get_id())
        status = answer.get("status")
        if status not in ("accepted", "duplicate") or answer.get("id") != e.get_id():
            self.unexpected.append(f"{key}: answered {answer}")
            return
        if status == "accepted":
            if key in self.accepted:
                self.accepted_again.append(key)
            self.accepted.add(key)
        else:
            self.duplicate_answers += 1
        self.acknowledged.add(key)


def new_event(rng: random.Random, source: str, id: str) -> CloudEvent:
    """A contract event of one of three kinds; binary mode needs its
    `datacontenttype`."""
    kind = rng.choice([partial_receipt, integration_failure, po_created])
    po = {"po": rng.choice(POS)} if kind is not integration_failure else {}
    return kind(source, id=id, datacontenttype="application/json", **po)


def compose(rng: random.Random, ledger: Ledger, number: int, size: int) -> tuple[list[CloudEvent], list[CloudEvent]]:
    """The events of one request, and which of them are new: about a fifth
    are events sent before, answered or not."""
    events: list[CloudEvent] = []
    fresh: list[CloudEvent] = []
    for _ in range(size):
        with ledger.lock:
            old = rng.choice(ledger.recent) if ledger.recent and rng.random() < 0.2 else None
        if old is not None and all(old is not e for e in events):
            events.append(old)
        else:
            fresh.append(new_event(rng, f"erp/sender-{number}", f"s{number}-{next(ledger.ids)}"))
            events.append(fresh[-1])
    return events, fresh


def sender(node: Crossdock, ledger: Ledger, stop: threading.Event, number: int, seed: int) -> None:
    """Posts in a random mode until told to stop, and records the answers."""
    rng = random.Random(seed)
    auth = node.sources["erp"].auth
    with requests.Session() as session:
        while not stop.is_set():
            mode = rng.choice(["structured", "batch", "binary"])
            events, fresh = compose(rng, ledger, number, rng.randint(2, 20) if mode == "batch" else 1)
            with ledger.lock:
                ledger.recent.extend(fresh)
                ledger.sent.update((e.get_source(), e.get_id()) for e in fresh)
                ledger.requests += 1
            one = structured if mode == "structured" else binary
            message = batch(events) if mode == "batch" else one(events[0])
            try:
                response = session.post(
                    node.url + EVENTS, data=message.body, headers={**auth, **message.headers}, timeout=10
                )
            except requests.RequestException as err:
                # The server is not back yet (refused), or died under the
                # request (cut: whether its events were committed is unknown).
                reason = getattr(err.args[0], "reason", None) if err.args else None
                with ledger.lock:
                    ledger.refused += isinstance(reason, NewConnectionError)
                    ledger.cut += not isinstance(reason, NewConnectionError)
                time.sleep(0.005)
                continue
            if response.status_code not in (429, 503):
                ledger.answer(mode, events, response)


@dataclass
class Figures:
    """What one run did."""

    kills: int
    seed: int
    seconds: float
    ledger: Ledger
    stored: int


def hammer(node: Crossdock, kills: int, seed: int, progress: Progress | None = None) -> Ledger:
    """Runs the senders against the server and SIGKILLs it `kills` times at
    random moments, restarting it each time on the same database."""
    rng = random.Random(seed)
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=sender, args=(node, ledger, stop, n, rng.randrange(2**32)), daemon=True)
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        for k in range(kills):
            time.sleep(rng.uniform(0.05, 0.5))
            node.kill()
            node.start()
            if progress:
                progress(k + 1, ledger)
        # A last stretch without kills, so recent sends are answered too.
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    return ledger


def problems(db: Path, ledger: Ledger) -> tuple[list[str], int]:
    """What is wrong with the database after the run, and how many events it holds."""
    found = [f"unexpected answer: {u}" for u in ledger.unexpected[:20]]
    found += [f"accepted again after a restart (first commit lost): {k}" for k in ledger.accepted_again[:20]]
    with closing(sqlite3.connect(db)) as conn:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            found.append(f"PRAGMA integrity_check: {integrity[:10]}")
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        if foreign:
            found.append(f"PRAGMA foreign_key_check: {foreign[:10]}")
        # The events senders sent: what Crossdock files itself (a milestone
        # overdue, once the samples' dates are past) is not theirs to count.
        counts = {
            (s, i): n
            for s, i, n in conn.execute(
                "SELECT source, event_id, COUNT(*) FROM events WHERE source NOT LIKE 'crossdock/%' GROUP BY 1, 2"
            )
        }
        # An event and the exception it files or counts on commit together.
        orphans = conn.execute(
            "SELECT COUNT(*) FROM events v WHERE v.type LIKE 'exception.%' AND NOT EXISTS "
            "(SELECT 1 FROM exceptions x WHERE x.id = v.exception_id)"
        ).fetchone()[0]
        miscounted = conn.execute(
            "SELECT COUNT(*) FROM exceptions x WHERE x.occurrences != "
            "(SELECT COUNT(*) FROM events v WHERE v.exception_id = x.id)"
        ).fetchone()[0]
    missing = sorted(k for k in ledger.acknowledged if counts.get(k) is None)
    found += [f"acknowledged but not stored: {k}" for k in missing[:20]]
    found += [f"stored {n} times: {k}" for k, n in counts.items() if n != 1][:20]
    found += [f"stored but never sent: {k}" for k in counts if k not in ledger.sent][:20]
    if orphans:
        found.append(f"{orphans} exception events without their exception")
    if miscounted:
        found.append(f"{miscounted} exceptions whose occurrences differ from the events filed on them")
    return found, len(counts)


def run(node: Crossdock, kills: int, seed: int, progress: Progress | None = None) -> tuple[Figures, list[str]]:
    """The whole harness on a prepared, stopped node: serve, hammer, stop, check."""
    started = time.monotonic()
    node.start()
    ledger = hammer(node, kills, seed, progress)
    code = node.stop()
    found, stored = problems(node.db, ledger)
    if code != 0:
        found.append(f"the server exited {code} on SIGTERM:\n{node.log_tail()}")
    return Figures(kills, seed, time.monotonic() - started, ledger, stored), found


def report(f: Figures) -> str:
    ledger = f.ledger
    return (
        f"kills {f.kills} (seed {f.seed}) in {f.seconds:.1f} s; requests {ledger.requests}: "
        f"{ledger.answered} answered, {ledger.cut} cut by a kill, {ledger.refused} refused while down; "
        f"events sent {len(ledger.sent)}, accepted {len(ledger.accepted)} "
        f"({ledger.duplicate_answers} duplicate answers), acknowledged {len(ledger.acknowledged)}, "
        f"stored {f.stored}"
    )


def test_every_acknowledged_event_survives_sigkill_exactly_once(template, tmp_path):
    node = template.copy_to(tmp_path)
    kills = int(os.environ.get("CROSSDOCK_CRASH_KILLS", "10"))
    figures, found = run(node, kills, seed=random.randrange(2**32))
    print(report(figures))
    assert figures.ledger.accepted, "no event was accepted: the harness did not exercise the server"
    assert not found, "\n".join([report(figures), *found])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=int(os.environ.get("CROSSDOCK_CRASH_KILLS", "10")))
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    parser.add_argument("--keep", action="store_true", help="keep the database folder and print where it is")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crossdock-crash-"))
    node = Crossdock(folder)
    node.migrate()
    node.add_source("erp", "erp")

    def progress(k: int, ledger: Ledger) -> None:
        if k % 50 == 0:
            print(f"  {k} kills, {len(ledger.accepted)} events accepted so far", flush=True)

    try:
        figures, found = run(node, args.kills, args.seed, progress)
    finally:
        node.kill()
    print(report(figures))
    for problem in found:
        print(f"PROBLEM: {problem}")
    if args.keep:
        print(f"database: {node.db}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print("ok" if not found else f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
