"""The sandbox's CRM properties API: property groups and properties per object type."""

import re

from connectors.sandbox.hubspot.answers import error
from connectors.sandbox.hubspot.store import Store, now_iso

# HubSpot's own groups and a few of its standard properties: (name, type, fieldType).
STANDARD = {
    "deals": (
        "dealinformation",
        "Deal information",
        [
            ("dealname", "string", "text"),
            ("amount", "number", "number"),
            ("dealstage", "enumeration", "radio"),
            ("pipeline", "enumeration", "select"),
            ("closedate", "datetime", "date"),
            ("description", "string", "textarea"),
            ("deal_currency_code", "enumeration", "select"),
        ],
    ),
    "companies": (
        "companyinformation",
        "Company information",
        [
            ("name", "string", "text"),
            ("domain", "string", "text"),
            ("phone", "string", "text"),
            ("address", "string", "text"),
            ("city", "string", "text"),
            ("state", "string", "text"),
            ("zip", "string", "text"),
            ("country", "string", "text"),
            ("description", "string", "textarea"),
        ],
    ),
    "contacts": (
        "contactinformation",
        "Contact information",
        [
            ("firstname", "string", "text"),
            ("lastname", "string", "text"),
            ("email", "string", "text"),
            ("phone", "string", "text"),
            ("jobtitle", "string", "text"),
        ],
    ),
    "line_items": (
        "lineiteminformation",
        "Line item information",
        [
            ("name", "string", "text"),
            ("quantity", "number", "number"),
            ("price", "number", "number"),
            ("amount", "number", "number"),
            ("hs_sku", "string", "text"),
            ("description", "string", "textarea"),
            ("hs_discount_percentage", "number", "number"),
        ],
    ),
}
TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {
    "textarea",
    "text",
    "date",
    "file",
    "number",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "calculation_equation",
}


def standard_schema() -> tuple[dict, dict]:
    """Return the groups and properties a fresh HubSpot account has, by object type."""
    groups, properties = {}, {}
    for kind, (group, label, rows) in STANDARD.items():
        groups[kind] = {group: group_shape(group, label, 0)}
        properties[kind] = {}
        for name, type_, field_type in rows:
            body = {"name": name, "label": name, "type": type_, "fieldType": field_type}
            properties[kind][name] = property_shape(body | {"groupName": group}, defined=True)
    return groups, properties


def group_shape(name: str, label: str, order: int) -> dict:
    return {"name": name, "label": label, "displayOrder": order, "archived": False}


def property_shape(body: dict, *, defined: bool = False) -> dict:
    """A property as HubSpot answers with it."""
    stamp = now_iso()
    return {
        "name": body["name"],
        "label": body["label"],
        "type": body["type"],
        "fieldType": body["fieldType"],
        "groupName": body["groupName"],
        "description": body.get("description") or "",
        "options": [
            {
                "label": o["label"],
                "value": o["value"],
                "displayOrder": o.get("displayOrder", position),
                "hidden": bool(o.get("hidden", False)),
            }
            for position, o in enumerate(body.get("options") or [])
        ],
        "displayOrder": body.get("displayOrder", -1),
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": bool(body.get("hasUniqueValue", False)),
        "hidden": bool(body.get("hidden", False)),
        "hubspotDefined": defined,
        "formField": bool(body.get("formField", False)),
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "modificationMetadata": {
            "archivable": not defined,
            "readOnlyDefinition": defined,
            "readOnlyValue": False,
        },
    }


def property_problem(kind: str, body: dict, store: Store) -> str:
    """Return why HubSpot would refuse to create this property, or ""."""
    for name in ("name", "label", "type", "fieldType", "groupName"):
        if not body.get(name):
            return f"{name} is required"
    if body["type"] not in TYPES:
        return f"{body['type']} is not a valid property type"
    if body["fieldType"] not in FIELD_TYPES:
        return f"{body['fieldType']} is not a valid field type"
    if body["groupName"] not in store.groups.get(kind, {}):
        return f"Property group {body['groupName']} does not exist"
    if body["type"] == "enumeration" and not body.get("options"):
        return "Enumeration properties need options"
    return ""


class PropertiesApi:
    """HubSpot's /crm/v3/properties paths over one store."""

    def __init__(self, store: Store, object_type) -> None:
        # object_type: the app's function from a name or type id to the store's name.
        self.store, self.object_type = store, object_type

    def routes(self) -> list:
        base = r"^/crm/v3/properties/([^/]+)"
        return [
            ("GET", re.compile(base + "/groups$"), self.groups_list),
            ("POST", re.compile(base + "/groups$"), self.group_create),
            ("GET", re.compile(base + "/groups/([^/]+)$"), self.group_read),
            ("GET", re.compile(base + "$"), self.properties_list),
            ("POST", re.compile(base + "$"), self.property_create),
            ("GET", re.compile(base + "/([^/]+)$"), self.property_read),
            ("PATCH", re.compile(base + "/([^/]+)$"), self.property_update),
        ]

    def groups_list(self, query: dict, body, kind: str) -> tuple[int, dict]:
        return 200, {"results": list(self.store.groups[self.object_type(kind)].values())}

    def group_read(self, query: dict, body, kind: str, name: str) -> tuple[int, dict]:
        found = self.store.groups[self.object_type(kind)].get(name)
        if found is None:
            raise error(404, "OBJECT_NOT_FOUND", f"Unable to find property group {name}")
        return 200, found

    def group_create(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        kind = self.object_type(kind)
        if not body.get("name") or not body.get("label"):
            raise error(400, "VALIDATION_ERROR", "name and label are required")
        with self.store.lock:
            groups = self.store.groups[kind]
            if body["name"] in groups:
                raise error(
                    409, "OBJECT_ALREADY_EXISTS", f"Group named '{body['name']}' already exists."
                )
            groups[body["name"]] = group_shape(
                body["name"], body["label"], body.get("displayOrder", -1)
            )
            self.store.save()
            return 201, groups[body["name"]]

    def properties_list(self, query: dict, body, kind: str) -> tuple[int, dict]:
        return 200, {"results": list(self.store.properties[self.object_type(kind)].values())}

    def property_read(self, query: dict, body, kind: str, name: str) -> tuple[int, dict]:
        found = self.store.properties[self.object_type(kind)].get(name)
        if found is None:
            raise error(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
        return 200, found

    def property_update(self, query: dict, body: dict, kind: str, name: str) -> tuple[int, dict]:
        """Overwrite the fields sent (options replace the property's options)."""
        kind = self.object_type(kind)
        with self.store.lock:
            found = self.store.properties[kind].get(name)
            if found is None:
                raise error(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
            shown = property_shape({**found, **body})
            found.update({k: shown[k] for k in (*body, "updatedAt") if k in shown})
            self.store.save()
            return 200, found

    def property_create(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        kind = self.object_type(kind)
        problem = property_problem(kind, body, self.store)
        if problem:
            raise error(400, "VALIDATION_ERROR", f"Property values were not valid: {problem}")
        with self.store.lock:
            existing = self.store.properties[kind]
            if body["name"] in existing:
                raise error(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"Property named '{body['name']}' already exists.",
                )
            existing[body["name"]] = property_shape(body)
            self.store.save()
            return 201, existing[body["name"]]
