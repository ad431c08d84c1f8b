"""Kill points for the fault-injection suite (tests/faults/): nothing happens unless asked.

HUB_FAULT_POINTS names points, comma-separated; a process reaching a named point kills
itself with SIGKILL there, as a crash or the kernel's OOM killer would. With
HUB_FAULT_ONCE_DIR set, each point fires once across all processes (a marker file in that
folder records which process it killed), so the task redelivered after the kill runs on.

Points:
- before_call:<system>:<operation>, after_call:<system>:<operation> (connectors/calls.py):
  before a vendor call, and after it answered successfully. Operations are the SDK methods,
  e.g. after_call:xero:create_invoices, before_call:xero:create_contacts,
  after_call:hubspot:BasicApi.update (deals and companies alike).
- after_commit:<handoff> (handoffs/runs.py): after a run's outcome is committed.
"""

import logging
import os
import signal
from pathlib import Path

logger = logging.getLogger(__name__)


def fault_point(name: str) -> None:
    """Kill this process here if HUB_FAULT_POINTS names this point (once, with a once-folder)."""
    points = os.environ.get("HUB_FAULT_POINTS", "")
    if not points or name not in points.split(","):
        return
    once = os.environ.get("HUB_FAULT_ONCE_DIR")
    if once:
        marker = Path(once) / name.replace(":", "_").replace("/", "_")
        try:
            descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(descriptor, str(os.getpid()).encode())
        os.close(descriptor)
    logger.warning("Fault point %s: killing process %d (SIGKILL)", name, os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)
