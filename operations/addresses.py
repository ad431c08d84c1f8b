"""Addresses written on one line, read into the parts the register keeps."""

import re

ADDRESS_PARTS = ("street", "city", "region", "postcode", "country")
STATES = {
    "NSW": "new south wales",
    "VIC": "victoria",
    "QLD": "queensland",
    "SA": "south australia",
    "WA": "western australia",
    "TAS": "tasmania",
    "NT": "northern territory",
    "ACT": "australian capital territory",
}
_STATE = "|".join([*STATES, *(re.escape(name) for name in STATES.values()), r"N\.S\.W\.?"])
# "Marrickville NSW 2204" or "NSW 2204": a suburb (or none), an Australian state, a postcode.
SUBURB_STATE_POSTCODE = re.compile(
    rf"^(?:(?P<city>.*?)\s+)?(?P<region>{_STATE})\s+(?P<postcode>\d{{4}})$", re.I
)


def state_code(name: str) -> str:
    """'New South Wales', 'N.S.W.' or 'nsw' as Australia Post writes it: 'NSW'; other
    regions as written."""
    plain = " ".join(name.replace(".", "").split()).lower()
    names = {full: code for code, full in STATES.items()}
    return names.get(plain) or (plain.upper() if plain.upper() in STATES else name)


def suburb_state_postcode(text: str) -> tuple[str, str, str] | None:
    """Split 'Marrickville NSW 2204' into its suburb, state and postcode, if it is one."""
    match = SUBURB_STATE_POSTCODE.match(" ".join((text or "").split()))
    if match is None:
        return None
    return match["city"] or "", state_code(match["region"]), match["postcode"]


def address_parts(line: str) -> dict[str, str]:
    """Split '14 Petersham Rd, Marrickville NSW 2204' or 'street, city, state, postcode'."""
    parts = [part.strip() for part in (line or "").split(",") if part.strip()]
    found = dict.fromkeys(ADDRESS_PARTS, "")
    if not parts:
        return found
    found["street"] = parts.pop(0)
    if parts and parts[-1].lower() in ("australia", "au"):
        found["country"] = parts.pop()
    if parts and (split := suburb_state_postcode(parts[-1])):
        parts.pop()
        city, found["region"], found["postcode"] = split
        found["city"] = city or (parts.pop() if parts else "")
        found["street"] = ", ".join([found["street"], *parts])
        return found
    for name, value in zip(("city", "region", "postcode"), parts, strict=False):
        found[name] = value
    found["region"] = state_code(found["region"])
    return found
