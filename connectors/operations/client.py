"""The operations connector for the built-in job register.

A business with an external job tool (ServiceM8, Tradify, simPRO, Jobber)
gets a sibling package with the same two methods over that tool's API; the
handoffs only see `OperationsConnector`.
"""

from connectors.base import CustomerDetails, JobPromise, JobRef
from operations import services
from operations.models import Customer


class JobRegister:
    """The built-in register, behind the same interface as an external job tool."""

    system = "operations"

    def customer_create(self, *, details: CustomerDetails) -> str:
        """Create the customer in the register and return its id."""
        customer = services.customer_create(
            name=details.name, email=details.email, phone=details.phone, address=details.address
        )
        return str(customer.pk)

    def job_create(self, *, promise: JobPromise, customer_id: str) -> JobRef:
        """Create the job promised, or return the one already made for the same origin."""
        job, created = services.job_create(
            customer=Customer.objects.get(pk=customer_id),
            title=promise.title,
            origin_system=promise.origin_system,
            origin_ref=promise.origin_ref,
            amount=promise.amount,
            currency=promise.currency,
            site_address=promise.site_address,
            site_contact=promise.site_contact,
            notes=promise.notes,
            lines=[
                {
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "item_code": line.item_code,
                }
                for line in promise.lines
            ],
        )
        return JobRef(number=job.number or "", created=created)
