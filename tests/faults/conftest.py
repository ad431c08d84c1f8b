"""Fault-injection scenarios with real processes: each test gets its own Redis, a proxy in
front of the test database, the sandboxes and the hub's web server, worker and beat.

Run only these: ./hub test tests/faults (or -m faults); leave them out: -m "not faults".
The scorecard is printed at the end of the session and written to
artifacts/faults-scorecard.txt; each scenario's logs are in artifacts/faults/<test>/.
"""

import re
import shutil
from pathlib import Path

import pytest

from tests.faults.harness import FaultHub
from tests.faults.scorecard import ROWS, table

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "faults: fault-injection scenarios with real processes")


def pytest_collection_modifyitems(items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.timeout(300))


@pytest.fixture
def fault_hub(request, transactional_db) -> FaultHub:
    """A hub of real processes for one scenario; everything it started is stopped after."""
    folder = ARTIFACTS / "faults" / re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:80]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    hub = FaultHub(folder)
    yield hub
    hub.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    text = table(ROWS)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "faults-scorecard.txt").write_text(text)
    terminalreporter.section("fault scorecard (artifacts/faults-scorecard.txt)")
    terminalreporter.write(text)
