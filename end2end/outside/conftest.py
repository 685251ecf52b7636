"""Outside tests: the real `crossdock` binary driven over HTTP the way the
integration estate drives it, with the libraries outside senders use. Every
test gets its own server (`crossdock serve`) on its own SQLite file in a
temporary folder, on a free port: the database is migrated and the senders
registered once with the command line (`crossdock migrate`, `crossdock source
create`, `crossdock source sign`), copied for each test, served, waited for on
`/healthz`, and stopped with SIGTERM after the test. The binary is
`$CROSSDOCK_BIN`, by default the repository's `target/bin/crossdock` that
`make test` links. `test_clients.py` sends events built with the CloudEvents
SDK and signed with the Standard Webhooks reference library and checks what a
sender is answered, including what the ingest hardening requires;
`test_contract.py` runs schemathesis with every check against
`/api/openapi.json`; `test_crash.py` SIGKILLs the server at random moments
under concurrent load and checks that every event ever acknowledged is stored
exactly once (`CROSSDOCK_CRASH_KILLS` kills, 10 by default; for a long run,
run the file itself with the virtualenv's Python: `test_crash.py --kills
500`). `run.sh` makes the virtualenv in `target/venv` from `requirements.txt`
when needed and runs them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import Crossdock


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Crossdock:
    """A migrated database with the tests' senders: `erp` and `wms` send
    unsigned, `mw` signs; each may write under its own name."""
    node = Crossdock(tmp_path_factory.mktemp("template"))
    node.migrate()
    node.add_source("erp", "erp")
    node.add_source("mw", "mw", signed=True)
    node.add_source("wms", "wms")
    return node


@pytest.fixture
def server(template: Crossdock, tmp_path: Path):
    """A running server on a fresh copy of the template database. Its log is
    printed at the end, which pytest shows when the test failed."""
    node = template.copy_to(tmp_path)
    node.start()
    try:
        yield node
    finally:
        code = node.stop()
        print(f"server log ({node.log}):\n{node.log_tail()}")
    assert code == 0, f"the server exited {code} on SIGTERM, not 0"
