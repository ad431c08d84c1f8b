"""Telling people about new review items: email at once or as a daily digest, and chat."""

import json
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from review_queue.models import NotificationRule, ReviewItem


def _item_url(item: ReviewItem) -> str:
    return settings.HUB_BASE_URL.rstrip("/") + reverse("review_queue:detail", args=[item.pk])


def item_notify(*, item_id: int) -> int:
    """Email the people who asked to hear about this kind at once, and post to chat."""
    item = ReviewItem.objects.filter(pk=item_id, status=ReviewItem.Status.OPEN).first()
    if item is None:
        return 0
    rules = NotificationRule.objects.filter(
        active=True, mode=NotificationRule.Mode.IMMEDIATE
    ).select_related("user")
    emails = [r.user.email for r in rules if r.user.email and r.wants(item.kind)]
    body = f"{item.reason}\n\nWhat to do: {item.action}\n\nOpen it: {_item_url(item)}"
    if emails:
        send_mail(f"[Hub] {item.title}", body, None, emails)
    if settings.REVIEW_CHAT_WEBHOOK_URL:
        _chat_post(f"New review item: {item.title}\n{item.reason}\n{_item_url(item)}")
    return len(emails)


def _chat_post(text: str) -> None:
    """Post to a Slack-compatible incoming webhook; errors propagate so the task retries."""
    request = urllib.request.Request(
        settings.REVIEW_CHAT_WEBHOOK_URL,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def digest_send() -> int:
    """Email each daily-digest subscriber the items opened in the last day; return emails sent."""
    since = timezone.now() - timedelta(days=1)
    new_items = list(ReviewItem.objects.filter(first_seen__gte=since).order_by("first_seen"))
    sent = 0
    rules = NotificationRule.objects.filter(active=True, mode=NotificationRule.Mode.DAILY)
    for rule in rules.select_related("user"):
        mine = [item for item in new_items if rule.wants(item.kind)]
        if not mine or not rule.user.email:
            continue
        lines = [f"- {i.title} ({i.get_status_display()}): {_item_url(i)}" for i in mine]
        send_mail(
            f"[Hub] {len(mine)} new review item{'s' if len(mine) != 1 else ''} today",
            "New in the review queue since yesterday:\n\n" + "\n".join(lines),
            None,
            [rule.user.email],
        )
        sent += 1
    return sent
