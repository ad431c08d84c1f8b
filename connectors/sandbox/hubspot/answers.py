"""HubSpot's error answers, raised by the sandbox's handlers."""

import uuid


class Answer(Exception):
    """Stop handling and answer with this status, body and headers."""

    def __init__(self, status: int, body, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, category: str, message: str, **extra) -> Answer:
    """Return HubSpot's error body as an Answer to raise."""
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Answer(status, body)
