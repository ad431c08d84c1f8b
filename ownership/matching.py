"""Is this the same customer? One place decides, for every system and every path.

A customer is matched across the systems when it is first seen in any of them. Certain:
the same ABN; else the same email address; else the same name (once "Pty Ltd" and the
like are set aside) with the same business email domain. One certain match is linked at
once, with the reason kept on the link. Anything less certain, two certain matches, or a
match that another customer of the same system already holds (a second company with the
same ABN) becomes one "possible duplicate" item for a person.
"""

from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

from django.db import connection, transaction
from django.utils.text import capfirst
from django.utils.translation import ngettext

from connectors.base import CustomerDetails
from connectors.errors import ConnectorError, Disagreement
from connectors.registry import in_organisation, organisation_of, systems
from ownership.models import Distinct, Link, Record
from ownership.services import link_add
from review_queue.details import Candidate, PossibleDuplicate
from review_queue.models import ReviewItem
from review_queue.services import review_item_open

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
    "outlook.com.au",
    "yahoo.com.au",
}
NOISE = (" pty ltd", " pty. ltd.", " pty", " ltd", " limited", " the ", ",", ".", " & ", " and ")


@dataclass(frozen=True)
class Likeness:
    """How a candidate resembles the customer, and whether that is certain."""

    why: str
    certain: bool


def plain_name(name: str) -> str:
    """The name without case, punctuation and company suffixes."""
    name = f" {name.lower()} "
    for word in NOISE:
        name = name.replace(word, " ")
    return " ".join(name.split())


def business_domain(email: str) -> str:
    """The email's domain, unless it is a public mail provider's."""
    domain = email.rpartition("@")[2].lower() if "@" in email else ""
    return "" if domain in PUBLIC_MAIL else domain


def abn_digits(text: str) -> str:
    """The ABN's 11 digits, or "" when the text holds no ABN."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits if len(digits) == 11 else ""


def likeness(a: CustomerDetails, b: CustomerDetails) -> Likeness | None:
    """Say how b resembles a (None: not at all)."""
    if abn_digits(a.tax_number) and abn_digits(a.tax_number) == abn_digits(b.tax_number):
        return Likeness("the same ABN", True)
    if a.email and a.email.lower() == b.email.lower():
        return Likeness("the same email address", True)
    same_domain = business_domain(a.email) and business_domain(a.email) == business_domain(b.email)
    names = SequenceMatcher(None, plain_name(a.name), plain_name(b.name)).ratio()
    if names == 1.0 and same_domain:
        return Likeness("the same name and email domain", True)
    if names >= 0.9:
        return Likeness("the same name" if names == 1.0 else "a similar name", False)
    if same_domain and names >= 0.6:
        return Likeness("a similar name and the same email domain", False)
    return None


def _record_of(system: str, external_id: str) -> Record | None:
    link = Link.objects.filter(system=system, record_type="customer", external_id=external_id)
    return Record.objects.filter(links__in=link).first()


def _linked_in(details: CustomerDetails, system: str, organisation: str) -> bool:
    """Whether the customer's record is linked in this system (and organisation) already."""
    record = _record_of(details.system, details.external_id)
    return bool(record and record.links.filter(system=system, organisation=organisation).exists())


@dataclass
class Sighting:
    """The hub's record of a customer just seen, what matching did, and which systems could
    not be asked (their error: the caller retries once they answer)."""

    record: Record
    said: list[str]
    missed: list[ConnectorError]


def _directories(details: CustomerDetails, only: set[str] | None, within: str = "") -> dict:
    """The other systems to look for the customer in (a finance system: in the organisation
    `within` names, or its default)."""
    return {
        system: in_organisation(directory, within)
        for system, directory in systems().items()
        if system != details.system
        and hasattr(directory, "customer_candidates")
        and (only is None or system in only)
    }


def customers_first_seen(
    *,
    many: list[CustomerDetails],
    only: set[str] | None = None,
    within: str = "",
    asked: dict[str, list[list[CustomerDetails]]] | None = None,
) -> list[Sighting]:
    """customer_first_seen for many customers of one system, each other system asked once
    for all their candidates (where it can: `customer_candidates_many`). `asked`: each
    system's candidates for them (in order) that the caller already has."""
    asked = dict(asked or {})
    failed: dict[str, ConnectorError] = {}
    for system, directory in _directories(many[0], only, within).items() if many else ():
        if system not in asked and hasattr(directory, "customer_candidates_many"):
            try:  # only the customers not linked there yet are looked for
                home = organisation_of(directory)
                sought = [n for n, d in enumerate(many) if not _linked_in(d, system, home)]
                found = (
                    directory.customer_candidates_many([many[n] for n in sought]) if sought else []
                )
            except ConnectorError as error:
                failed[system] = error
                continue
            asked[system] = [[] for _ in many]
            for n, candidates in zip(sought, found, strict=True):
                asked[system][n] = candidates
    sightings = []
    for n, details in enumerate(many):
        known = {system: found[n] for system, found in asked.items()}
        sightings.append(
            customer_first_seen(
                details=details, only=only, asked=known, failed=failed, within=within
            )
        )
    return sightings


@transaction.atomic
def customer_first_seen(
    *,
    details: CustomerDetails,
    only: set[str] | None = None,
    asked: dict[str, list[CustomerDetails]] | None = None,
    failed: dict[str, ConnectorError] | None = None,
    within: str = "",
) -> Sighting:
    """Find (or make) the hub's record of a customer seen in one system, linking it to the
    same customer in each other system (of `only`, when given) it is not linked in yet. A
    system that cannot be asked now (not connected, not answering) is named in `missed`.

    `asked`: each system's candidates already fetched; `failed`: systems that failed to say;
    `within`: the organisation of a finance system with several, where the customer is
    looked for (or was seen).
    """
    _sighting_lock(details)
    record = _record_of(details.system, details.external_id)
    said: list[str] = []
    missed: list[ConnectorError] = []
    asked, failed = asked or {}, failed or {}
    for system, directory in _directories(details, only, within).items():
        try:
            home = organisation_of(directory)
            if record and record.links.filter(system=system, organisation=home).exists():
                continue
            if system in failed:
                raise failed[system]
            candidates = asked.get(system)
            if candidates is None:
                candidates = directory.customer_candidates(details)
            record = _match_in(directory, details, record, said, candidates)
        except ConnectorError as error:
            said.append(f"could not ask {directory.label} yet ({error.message})")
            missed.append(error)
    if record is None:
        record = Record.objects.create(type=Record.Type.CUSTOMER, label=details.name)
    # Seen in one organisation of a system with several: its link is that organisation's.
    own = within if hasattr(systems().get(details.system), "within") else ""
    held = record.links.filter(system=details.system)
    if (
        not held.filter(external_id=details.external_id).exists()
        and not (held.filter(organisation=own) if own else held).exists()
    ):
        link_add(
            record=record,
            system=details.system,
            external_id=details.external_id,
            reason="first seen",
            organisation=own,
        )
    return Sighting(record, said, missed)


def _sighting_lock(details: CustomerDetails) -> None:
    """One sighting of a customer at a time (until this transaction ends): two runs that see
    a new customer together (its own change, a deal won for it) would each make a record for
    it, and a person's answer about one record would not reach the other."""
    if connection.vendor == "postgresql":  # SQLite (the demo) runs one writer at a time
        with connection.cursor() as cursor:
            key = f"customer:{details.system}:{details.external_id}"
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _match_in(
    directory,
    details: CustomerDetails,
    record: Record | None,
    said: list[str],
    candidates: list[CustomerDetails],
):
    """Link the one certain match in this system, or open an item for a person."""
    refused = set(
        Distinct.objects.filter(system=directory.system, record=record).values_list(
            "external_id", flat=True
        )
        if record
        else []
    )
    found = [
        (candidate, like)
        for candidate in candidates
        if candidate.external_id not in refused and (like := likeness(details, candidate))
    ]
    certain = [(c, like) for c, like in found if like.certain]
    if len(certain) == 1:
        candidate, like = certain[0]
        held_by = _record_of(directory.system, candidate.external_id)
        clash = (
            held_by
            and held_by != record
            and (record is not None or held_by.links.filter(system=details.system).exists())
        )
        if not clash:
            record = (
                record
                or held_by
                or Record.objects.create(type=Record.Type.CUSTOMER, label=details.name)
            )
            if held_by is None:
                link_add(
                    record=record,
                    system=directory.system,
                    external_id=candidate.external_id,
                    reason=like.why,
                    organisation=organisation_of(directory),
                )
            said.append(f"linked to {directory.label}'s '{candidate.name}' ({like.why})")
            return record
    if found:
        record = record or Record.objects.create(type=Record.Type.CUSTOMER, label=details.name)
        duplicate_open(details=details, record=record, directory=directory, found=found)
        matches = ngettext("possible match", "possible matches", len(found))
        said.append(f"asked a person about {len(found)} {matches} in {directory.label}")
    return record


def _duplicate_root(details: CustomerDetails, target: str) -> str:
    return f"duplicate:{details.system}:{details.external_id}:{target}"


def duplicate_waiting(*, details: CustomerDetails, target: str, what: str) -> Disagreement | None:
    """The open possible-duplicate item about this customer in `target`, as the error a run
    waits on (`what` the run would make: "job", "invoice"); None when there is none."""
    item = ReviewItem.objects.filter(
        root_key=_duplicate_root(details, target), status=ReviewItem.Status.OPEN
    ).first()
    if item is None:
        return None
    return Disagreement(
        f"{item.reason} No {what} was made yet.",
        title=item.title,
        kind="possible_duplicate",
        system=target,
        fix=f"Choose: link the customer to the existing one, or say it is a different "
        f"customer. The {what} is then made.",
        details=item.details,
        root=item.root_key,
    )


def duplicate_open(*, details: CustomerDetails, record: Record, directory, found) -> ReviewItem:
    """Open the one item asking whether the customer is one of these in another system."""
    source = systems()[details.system].label
    named = "; ".join(f"{c.name} ({like.why})" for c, like in found)
    return review_item_open(
        root_key=_duplicate_root(details, directory.system),
        kind=ReviewItem.Kind.DUPLICATE,
        system=directory.system,
        title=f"Possible duplicate customer: {details.name}",
        reason=f"{capfirst(source)}'s customer '{details.name}' may already be in "
        f"{directory.label}: "
        f"{named}. The hub linked nothing.",
        action=f"Choose: it is one of these (link it, optionally taking {source}'s details), "
        "or it is a different customer.",
        record_type="customer",
        record_ref=details.external_id,
        record_label=details.name,
        details=asdict(
            PossibleDuplicate(
                new=asdict(details),
                target=directory.system,
                candidates=[Candidate(c.external_id, c.name, like.why) for c, like in found],
                record=record.pk,
                organisation=organisation_of(directory),
            )
        ),
    )
