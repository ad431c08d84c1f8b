"""Factories for review items."""

import factory

from review_queue.models import ReviewItem


class ReviewItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewItem

    kind = ReviewItem.Kind.MISSING_DATA
    system = "hubspot"
    record_type = "deal"
    record_ref = factory.Sequence(lambda n: str(5000 + n))
    record_label = factory.Sequence(lambda n: f"Deal number {n}")
    title = factory.LazyAttribute(lambda o: f"Won deal to job: {o.record_label}")
    reason = "The deal was won, but it has no company in HubSpot."
    action = "Associate the company, then press Retry."
    root_key = factory.LazyAttribute(lambda o: f"deal_won_to_job:deal:{o.record_ref}:invalid")
