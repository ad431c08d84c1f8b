"""HubSpot's rate limit per account, shared by every worker (connectors/limits.py).

A private app may make HUBSPOT_CALLS_PER_10_SECONDS calls in any 10 seconds (100 to 190
by tier). The hub takes a place before each call, lowers its count to HubSpot's
X-HubSpot-RateLimit-Remaining when HubSpot counts more, and on a 429 pauses every worker
for the Retry-After HubSpot gives.
"""

import json
from collections.abc import Mapping
from hashlib import sha256

from django.conf import settings

from connectors.limits import Answer, Limits, Window

# How long to stay away when a 429 gives no Retry-After, by HubSpot's policyName.
DEFAULT_PAUSE = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0, "DAILY": 3600.0}
POLICY_NAMES = {
    "TEN_SECONDLY_ROLLING": "its 10-second limit",
    "SECONDLY": "its per-second limit",
    "DAILY": "its daily limit",
}


def _explain(problem: str, vendor: bool, what: str) -> str:
    if vendor:
        limit = POLICY_NAMES.get(problem, problem)
        return f"HubSpot asked the hub to slow down ({limit}) while the hub fetched {what}."
    return (
        f"The hub is pacing calls to HubSpot: {settings.HUBSPOT_CALLS_PER_10_SECONDS} calls "
        f"in 10 seconds are used up for now (while fetching {what})."
    )


HUBSPOT = Limits(
    vendor="hubspot",
    windows=lambda: [Window("ten_seconds", settings.HUBSPOT_CALLS_PER_10_SECONDS, 10)],
    lease=lambda: settings.HUBSPOT_TIMEOUT_SECONDS + 30,
    explain=_explain,
)


def account(access_token: str) -> str:
    """The scope the limit counts in: one per app token (its account), never the token."""
    return sha256(access_token.encode()).hexdigest()[:16]


def answer_read(answer: Answer, headers: Mapping | None, status: int | None, body=None) -> None:
    """Take in what one of HubSpot's answers says about its limits."""
    said = {str(k).lower(): v for k, v in (headers or {}).items()}
    remaining = said.get("x-hubspot-ratelimit-remaining")
    if remaining is not None and str(remaining).isdigit():
        answer.remaining["ten_seconds"] = int(remaining)
    if status == 429:
        try:
            policy = json.loads(body or "{}").get("policyName") or "TEN_SECONDLY_ROLLING"
        except (ValueError, AttributeError):
            policy = "TEN_SECONDLY_ROLLING"
        try:
            wait = float(said["retry-after"])
        except (KeyError, TypeError, ValueError):
            wait = DEFAULT_PAUSE.get(policy, 10.0)
        answer.pauses.append(("", policy, wait))
