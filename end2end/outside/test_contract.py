"""The API against its own OpenAPI description: schemathesis generates
requests from `/api/openapi.json` (valid and invalid ones, every operation)
and applies every check it has to the answers.

It runs as its command line, which reports every failure found with the
request that reproduces it; the report is the failure message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Enough cases to explore each media type's edges while staying well under a
# minute; the seed makes a failure reproducible (set CROSSDOCK_SCHEMATHESIS_SEED
# to explore further).
MAX_EXAMPLES = 200
SEED = os.environ.get("CROSSDOCK_SCHEMATHESIS_SEED", "1")

# The OpenAPI document declares bearer authentication as the `api_key` scheme;
# schemathesis fills it from the configuration, so its auth checks know it.
# A batch over the limit is refused with 413 (too large), which is a refusal
# like the 4xx schemathesis expects by default.
CONFIG = """\
[auth.openapi.api_key]
bearer = "${CROSSDOCK_API_KEY}"

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
"""


def test_the_api_answers_as_its_openapi_description_says(server, tmp_path: Path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(config),
        "--no-color",
        "run", f"{server.url}/api/openapi.json",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", SEED,
        "--continue-on-failure",
        "--request-timeout", "10",
    ]  # fmt: skip
    env = {**os.environ, "CROSSDOCK_API_KEY": server.sources["erp"].key}
    # Run in the test's folder, where hypothesis and the reports leave their files.
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"schemathesis exited {done.returncode}:\n{done.stdout}\n{done.stderr}", pytrace=False)
