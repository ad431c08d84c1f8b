"""Addresses written on one line, read into the parts the register keeps."""

import re

ADDRESS_PARTS = ("street", "city", "region", "postcode", "country")
# "Marrickville NSW 2204": a suburb, an Australian state and a postcode in one part.
SUBURB_STATE_POSTCODE = re.compile(
    r"^(?P<city>.*?)\s+(?P<region>NSW|VIC|QLD|SA|WA|TAS|NT|ACT)\s+(?P<postcode>\d{4})$", re.I
)


def address_parts(line: str) -> dict[str, str]:
    """Split '14 Petersham Rd, Marrickville NSW 2204' or 'street, city, state, postcode'."""
    parts = [part.strip() for part in (line or "").split(",") if part.strip()]
    found = dict.fromkeys(ADDRESS_PARTS, "")
    if not parts:
        return found
    found["street"] = parts.pop(0)
    if parts and parts[-1].lower() in ("australia", "au"):
        found["country"] = parts.pop()
    if parts and (match := SUBURB_STATE_POSTCODE.match(parts[-1])):
        parts.pop()
        found |= {k: v for k, v in match.groupdict().items()}
        found["region"] = found["region"].upper()
        found["city"] = found["city"] or (parts.pop() if parts else "")
        found["street"] = ", ".join([found["street"], *parts])
        return found
    for name, value in zip(("city", "region", "postcode"), parts, strict=False):
        found[name] = value
    return found
