"""Xero's tracking categories in the sandbox: the categories with their options, and the
`Tracking` of invoice lines, refused as Xero refuses an option it does not have."""

import uuid

# (category, its active options, its archived options), as a trades business might keep.
SEED_TRACKING = [
    ("Region", ["NSW", "VIC", "QLD", "ACT", "TAS"], ["NT"]),
    ("Crew", ["Blue crew (Sam, Ava)", "Green crew (Noah)"], []),
]
# Xero takes at most two tracking categories on a line (LineItem.Tracking, its spec).
MOST_ON_A_LINE = 2


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "xero-tracking-" + "/".join(parts)))


def category(name: str, options: list[str], archived: list[str] = ()) -> dict:
    """A tracking category as Xero's TrackingCategories endpoint gives it."""
    category_id = _id(name)
    return {
        "TrackingCategoryID": category_id,
        "Name": name,
        "Status": "ACTIVE",
        "Options": [
            {
                "TrackingOptionID": _id(name, option),
                "Name": option,
                "Status": "ARCHIVED" if option in archived else "ACTIVE",
                "TrackingCategoryID": category_id,
            }
            for option in [*options, *archived]
        ],
    }


def seed() -> dict[str, dict]:
    """The organisation's tracking categories, by id."""
    made = [category(*row) for row in SEED_TRACKING]
    return {c["TrackingCategoryID"]: c for c in made}


def option_add(categories: dict[str, dict], name: str, option: str) -> None:
    """Add an option to a category, or make an archived one active again (as a bookkeeper
    does in Xero's settings)."""
    found = next(c for c in categories.values() if c["Name"] == name)
    for each in found["Options"]:
        if each["Name"] == option:
            each["Status"] = "ACTIVE"
            return
    found["Options"].append(
        {
            "TrackingOptionID": _id(name, option),
            "Name": option,
            "Status": "ACTIVE",
            "TrackingCategoryID": found["TrackingCategoryID"],
        }
    )


def listed(categories: dict[str, dict], query: dict) -> list[dict]:
    """GET /TrackingCategories: active categories and options, archived ones too with
    includeArchived=true."""
    archived = query.get("includeArchived", ["false"])[0].lower() == "true"
    shown = []
    for each in categories.values():
        if each["Status"] != "ACTIVE" and not archived:
            continue
        options = [o for o in each["Options"] if archived or o["Status"] == "ACTIVE"]
        shown.append(dict(each, Options=options))
    return shown


def _find(categories: dict[str, dict], wanted: dict) -> tuple[dict | None, dict | None]:
    """The category and option a line's tracking names, by id or by name (either may be)."""
    found = None
    for each in categories.values():
        if wanted.get("TrackingCategoryID") == each["TrackingCategoryID"] or (
            not wanted.get("TrackingCategoryID")
            and str(wanted.get("Name") or "").lower() == each["Name"].lower()
        ):
            found = each
    if found is None:
        return None, None
    for option in found["Options"]:
        if wanted.get("TrackingOptionID") == option["TrackingOptionID"] or (
            not wanted.get("TrackingOptionID")
            and str(wanted.get("Option") or "").lower() == option["Name"].lower()
        ):
            return found, option
    return found, None


def line_errors(categories: dict[str, dict], line: dict) -> list[str]:
    """Why Xero would refuse a line's tracking: more than two categories, a category or
    option it does not have, or one that is archived."""
    tracking = line.get("Tracking") or []
    if len(tracking) > MOST_ON_A_LINE:
        return ["A line item can have at most two tracking categories."]
    errors = []
    for wanted in tracking:
        name = wanted.get("Name") or wanted.get("TrackingCategoryID")
        option_name = wanted.get("Option") or wanted.get("TrackingOptionID")
        found, option = _find(categories, wanted)
        if found is None or found["Status"] != "ACTIVE":
            errors.append(f"The tracking category '{name}' does not exist or is archived.")
        elif option is None or option["Status"] != "ACTIVE":
            errors.append(
                f"The tracking option '{option_name}' for tracking category '{found['Name']}' "
                "does not exist or is archived."
            )
    return errors


def line_saved(categories: dict[str, dict], line: dict, *, kept: bool) -> None:
    """Write a valid line's tracking as Xero holds it (names and ids); with `kept` False,
    drop it, as Xero has been seen to do in silence."""
    if not kept:
        line.pop("Tracking", None)
        return
    saved = []
    for wanted in line.get("Tracking") or []:
        found, option = _find(categories, wanted)
        if found is None or option is None:  # a change to a saved invoice is not checked
            continue
        saved.append(
            {
                "Name": found["Name"],
                "Option": option["Name"],
                "TrackingCategoryID": found["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
            }
        )
    line["Tracking"] = saved
