"""New review items reach the people who asked, at once or in a daily digest."""

import pytest
from django.core import mail

from review_queue.models import NotificationRule
from review_queue.notify import digest_send, item_notify
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model):
    def person(name, **rule):
        user = django_user_model.objects.create_user(name, email=f"{name}@example.com")
        NotificationRule.objects.create(user=user, **rule)
        return user

    return person


def test_it_emails_at_once_only_people_who_want_that_kind(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people("finance", kinds=["connection"])
    people("everyone")
    people("digest", mode="daily")
    people("muted", active=False)
    item = ReviewItemFactory(kind="missing_data", title="Won deal to job: Cafe fit-out")
    assert item_notify(item_id=item.pk) == 1
    (message,) = mail.outbox
    assert message.to == ["everyone@example.com"]
    assert message.subject == "[Hub] Won deal to job: Cafe fit-out"
    assert f"/review/{item.pk}/" in message.body


def test_the_daily_digest_lists_the_days_new_items(people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people("digest", mode="daily", kinds=["missing_data"])
    ReviewItemFactory.create_batch(2, kind="missing_data")
    ReviewItemFactory(kind="connection", root_key="c")
    assert digest_send() == 1
    assert mail.outbox[0].subject == "[Hub] 2 new review items today"


def test_people_choose_their_notifications_on_a_page(client, people):
    from django.contrib.auth.models import Group

    from integration_hub.permissions import STAFF_GROUP

    user = people("me")
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])
    client.force_login(user)
    client.post(
        "/review/notifications/", {"kinds": ["connection"], "mode": "daily", "active": "on"}
    )
    rule = NotificationRule.objects.get(user=user)
    assert (rule.kinds, rule.mode, rule.active) == (["connection"], "daily", True)
