"""Factories for the job register."""

from decimal import Decimal

import factory
from django.utils import timezone

from operations.models import Crew, Customer, Job, JobLine


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} Pty Ltd")
    email = factory.Sequence(lambda n: f"accounts{n}@example.com")


class CrewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Crew
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Crew {n}")


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    number = factory.Sequence(lambda n: f"J-{5000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Job {n}")
    status = Job.Status.IN_PROGRESS
    amount = Decimal("440.00")
    # Booked for now: today and this week in the hub's time zone whatever the hour (an hour
    # ahead was tomorrow, and next week, after 23:00 Sydney time).
    scheduled_start = factory.LazyFunction(timezone.now)
    site_address = "1 George St, Sydney NSW 2000"


class JobLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobLine

    job = factory.SubFactory(JobFactory)
    description = "Labour - electrician (hours)"
    quantity = Decimal("4")
    unit_price = Decimal("110.00")
    item_code = "LABOUR-HR"
