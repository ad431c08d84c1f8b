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
    # Noon today, local time: "an hour from now" is tomorrow in the day's last hour.
    scheduled_start = factory.LazyFunction(
        lambda: timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    )
    site_address = "1 George St, Sydney NSW 2000"


class JobLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobLine

    job = factory.SubFactory(JobFactory)
    description = "Labour - electrician (hours)"
    quantity = Decimal("4")
    unit_price = Decimal("110.00")
    item_code = "LABOUR-HR"
