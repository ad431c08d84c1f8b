"""The operations connector for the built-in job register.

A business with an external job tool (ServiceM8, Tradify, simPRO, Jobber)
gets a sibling package with the same two methods over that tool's API; the
handoffs only see `OperationsConnector`.
"""

from difflib import SequenceMatcher

from connectors.base import CustomerDetails, JobPromise, JobRef
from operations import services
from operations.models import Customer

# Mail providers shared by many unrelated customers: a shared domain there means nothing.
PUBLIC_MAIL = {
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "bigpond.com",
    "bigpond.net.au",
    "live.com",
    "optusnet.com.au",
}
NOISE = (" pty ltd", " pty. ltd.", " pty", " ltd", " limited", " the ", ",", ".")


def _plain(name: str) -> str:
    name = f" {name.lower()} "
    for word in NOISE:
        name = name.replace(word, " ")
    return " ".join(name.split())


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, _plain(a), _plain(b)).ratio()


class JobRegister:
    """The built-in register, behind the same interface as an external job tool."""

    system = "operations"

    def customer_create(self, *, details: CustomerDetails) -> str:
        """Create the customer in the register and return its id."""
        customer = services.customer_create(
            name=details.name,
            email=details.email,
            phone=details.phone,
            address=details.address,
            tax_number=details.tax_number,
        )
        return str(customer.pk)

    def customer_candidates(self, *, details: CustomerDetails) -> list[dict]:
        """Return register customers that are likely the same: same ABN, same email, or a
        similar name (closer still with the same email domain)."""
        found: dict[int, tuple[str, str]] = {}
        domain = details.email.rpartition("@")[2].lower() if "@" in details.email else ""
        for customer in Customer.objects.all():
            reasons = []
            if details.tax_number and customer.tax_number == details.tax_number:
                reasons.append("the same ABN")
            if details.email and customer.email.lower() == details.email.lower():
                reasons.append("the same email address")
            similarity = _similar(customer.name, details.name)
            same_domain = (
                domain
                and domain not in PUBLIC_MAIL
                and customer.email.lower().endswith(f"@{domain}")
            )
            if similarity >= 0.9 or (same_domain and similarity >= 0.6):
                reasons.append(
                    "a similar name" + (" and the same email domain" if same_domain else "")
                )
            if reasons:
                found[customer.pk] = (customer.name, " and ".join(reasons))
        return [{"id": str(pk), "name": name, "why": why} for pk, (name, why) in found.items()]

    def customer_merge(self, *, customer_id: str, details: CustomerDetails) -> None:
        """Fill the customer's contact details from another system's record of them."""
        customer = Customer.objects.get(pk=customer_id)
        for name in ("email", "phone", "address", "tax_number"):
            if getattr(details, name):
                setattr(customer, name, getattr(details, name))
        customer.save()

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
