"""Every customer of one system, held in memory and found by what matching compares.

The first match compares thousands of customers of each system with each other's; asking
a system for each one's candidates would cost a call per customer. This index answers
the same question (who may this be?) from one read of the whole list: the same ABN, email,
name, business email domain, or a name that starts or ends the same (for "a similar
name"). `likeness` (ownership/matching.py) then decides, as for every other path.
"""

from collections import defaultdict

from connectors.base import CustomerDetails
from ownership.matching import abn_digits, business_domain, plain_name

# Names compared for "a similar name" share their first or last letters: enough to catch
# typos and suffixes without comparing every pair.
AFFIX = 4
# A key shared by more customers than this (a common first word) says too little to compare
# them all; exact keys (ABN, email, name) are always followed.
CROWD = 50


def _keys(details: CustomerDetails) -> tuple[list[str], list[str]]:
    """The exact keys and the loose keys one customer is found by."""
    name = plain_name(details.name)
    exact = [
        f"abn:{abn}" if (abn := abn_digits(details.tax_number)) else "",
        f"email:{details.email.lower()}" if details.email else "",
        f"name:{name}" if name else "",
    ]
    loose = [
        f"domain:{domain}" if (domain := business_domain(details.email)) else "",
        f"start:{name[:AFFIX]}" if len(name) >= AFFIX else "",
        f"end:{name[-AFFIX:]}" if len(name) >= AFFIX else "",
    ]
    return [k for k in exact if k], [k for k in loose if k]


class CustomerIndex:
    """One system's customers, by the keys that may make two of them one."""

    def __init__(self, customers: list[CustomerDetails]):
        self.customers = customers
        self._found: dict[str, list[int]] = defaultdict(list)
        for n, details in enumerate(customers):
            exact, loose = _keys(details)
            for key in exact + loose:
                self._found[key].append(n)

    def candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        """The customers here that may be this one (likeness says which are)."""
        exact, loose = _keys(details)
        seen: dict[int, None] = {}
        for key in exact:
            seen |= dict.fromkeys(self._found.get(key, ()))
        for key in loose:
            crowd = self._found.get(key, ())
            if len(crowd) <= CROWD:
                seen |= dict.fromkeys(crowd)
        return [self.customers[n] for n in seen]
