"""The demo's broker: kombu's filesystem transport, safe against half-written messages.

kombu's own transport creates a message file under its final name and only then writes
it, so a worker polling the folder can take the file while it is still empty; reading it
raised JSONDecodeError and stopped the worker ("Unrecoverable error"). Here a message is
written under a staging folder and renamed into the queue folder whole, and a file that
still cannot be read (written by something else, or damaged) is set aside with a log line
instead of stopping the worker.
"""

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


def broker_folders(root: Path) -> dict[str, str]:
    """Create the demo broker's folders under `root`; return them as transport options."""
    folders = {
        "data_folder_in": root / "out",
        "data_folder_out": root / "out",
        "control_folder": root / "control",
        "staging_folder": root / "staging",
        "processing_folder": root / "processing",
        "broken_folder": root / "broken",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {name: str(folder) for name, folder in folders.items()}


class Channel(filesystem.Channel):
    """A filesystem channel whose readers only ever see whole messages."""

    def _folder(self, name: str) -> str:
        return self.transport_options[name]

    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        """Write the message in the staging folder, then rename it into the queue folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staged = os.path.join(self._folder("staging_folder"), name)
        try:
            with open(staged, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            # A rename within one filesystem is atomic: the file appears complete or not at all.
            os.replace(staged, os.path.join(self.data_folder_out, name))
        except OSError as error:
            raise ChannelError(f"Cannot add message {name!r} to the queue: {error}") from error

    def _get(self, queue: str) -> dict:
        """Take the oldest readable message of the queue; set aside any that cannot be read."""
        suffix = f".{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if not name.endswith(suffix):
                continue
            taken = os.path.join(self._folder("processing_folder"), name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except OSError:
                continue  # another consumer took it first
            with open(taken, "rb") as file:
                raw = file.read()
            try:
                message = loads(bytes_to_str(raw))
                if not (isinstance(message, dict) and {"body", "properties"} <= message.keys()):
                    raise ValueError("not a kombu message")
            except ValueError:
                kept = os.path.join(self._folder("broken_folder"), name)
                os.replace(taken, kept)
                logger.error(
                    "Set aside an unreadable message (%d bytes) from queue %s as %s; the "
                    "worker goes on. The sweeper re-sends work whose message was lost.",
                    len(raw),
                    queue,
                    kept,
                )
                continue
            os.remove(taken)
            return message
        raise Empty()


class Transport(filesystem.Transport):
    """kombu's filesystem transport with the safe channel."""

    Channel = Channel
