"""The sandbox's CRM state: objects, associations, pipelines and fault switches."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

OBJECT_TYPES = ("deals", "companies", "contacts", "line_items")
TYPE_IDS = {"0-3": "deals", "0-2": "companies", "0-1": "contacts", "0-8": "line_items"}
SINGULAR = {
    "deals": "deal",
    "companies": "company",
    "contacts": "contact",
    "line_items": "line_item",
}
# HubSpot's default association type ids, both ways.
DEFAULT_ASSOCIATIONS = {
    ("deals", "companies"): [5, 341],
    ("companies", "deals"): [342],
    ("deals", "contacts"): [3],
    ("contacts", "deals"): [4],
    ("deals", "line_items"): [19],
    ("line_items", "deals"): [20],
    ("contacts", "companies"): [1, 279],
    ("companies", "contacts"): [280],
}
Listener = Callable[[dict], None]


def now_iso() -> str:
    """Return the time the way HubSpot writes it: ISO 8601 with milliseconds and Z."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class Store:
    """Everything the sandbox knows, guarded by one lock."""

    def __init__(self, *, state_file: str | None = None) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.listeners: list[Listener] = []
        self.faults: list[dict] = []
        # API requests that reached the sandbox, refused ones too, by method and path
        # ("POST /crm/v3/objects/deals/batch/read").
        self.requests: Counter[str] = Counter()
        self._empty()

    def _empty(self) -> None:
        self.objects: dict[str, dict[str, dict]] = {t: {} for t in OBJECT_TYPES}
        self.associations: list[tuple[str, str, str, str, int]] = []
        self.pipelines: dict[str, list[dict]] = {"deals": []}
        self.next_id = 1000
        # Merged-away ids by object type: id → the id of the record it was merged into.
        self.merged: dict[str, dict[str, str]] = {t: {} for t in OBJECT_TYPES}
        from connectors.sandbox.hubspot.schema import standard_schema

        # Property groups and properties by object type, then by name.
        self.groups, self.properties = standard_schema()

    def reset(self, seed: str = "demo") -> None:
        """Forget everything and load a seed ("demo" or "empty") without sending events."""
        from connectors.sandbox.hubspot.seed import SEEDS

        with self.lock:
            listeners, self.listeners = self.listeners, []
            self._empty()
            SEEDS[seed](self)
            self.listeners = listeners
            self.faults = []
            self.requests.clear()
            self.save()

    # Objects -----------------------------------------------------------------

    def create(
        self,
        object_type: str,
        properties: dict,
        *,
        change_source: str = "INTEGRATION",
        associations: list[tuple[str, str]] = (),
    ) -> dict:
        """Create an object (and its default associations) and announce it."""
        with self.lock:
            self.next_id += 1
            stamp = now_iso()
            obj = {
                "id": str(self.next_id),
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "properties": {k: _text(v) for k, v in properties.items()},
            }
            self.objects[object_type][obj["id"]] = obj
            for to_type, to_id in associations:
                self.associate(object_type, obj["id"], to_type, to_id)
            self._announce(object_type, obj["id"], "creation", change_source=change_source)
            self.save()
            return obj

    def get(self, object_type: str, object_id: str) -> dict | None:
        """Return the object, or None; a merged-away id gives the record it was merged into,
        as HubSpot answers a read of one."""
        object_id = str(object_id)
        merged = self.merged.get(object_type, {})
        while object_id in merged:
            object_id = merged[object_id]
        return self.objects.get(object_type, {}).get(object_id)

    def list(self, object_type: str) -> list[dict]:
        """Return every object of a type, oldest first."""
        with self.lock:
            return list(self.objects[object_type].values())

    def update(
        self,
        object_type: str,
        object_id: str,
        properties: dict,
        *,
        change_source: str = "CRM_UI",
        notify: bool = True,
    ) -> dict:
        """Change properties; each real change is announced as a propertyChange event."""
        with self.lock:
            obj = self.get(object_type, object_id)
            if obj is None:
                raise KeyError(f"No {object_type} {object_id}")
            changed = {}
            for name, value in properties.items():
                value = _text(value)
                if obj["properties"].get(name) != value:
                    obj["properties"][name] = value
                    changed[name] = value
            if changed:
                obj["updatedAt"] = now_iso()
                if notify:
                    for name, value in changed.items():
                        self._announce(
                            object_type,
                            obj["id"],
                            "propertyChange",
                            change_source=change_source,
                            name=name,
                            value=value,
                        )
                self.save()
            return obj

    def merge(
        self, object_type: str, primary_id: str, merged_id: str, *, change_source: str = "CRM_UI"
    ) -> dict:
        """Merge one record into another as HubSpot does: the primary keeps its id and its
        values, takes the other's where it has none, and its associations; the other's id
        then reads as the primary, and hs_merged_object_ids lists it."""
        with self.lock:
            primary, other = self.get(object_type, primary_id), self.get(object_type, merged_id)
            if primary is None or other is None or primary is other:
                raise ValueError(f"Cannot merge {object_type} {merged_id} into {primary_id}.")
            props = primary["properties"]
            for name, value in other["properties"].items():
                if value not in (None, "") and props.get(name) in (None, ""):
                    props[name] = value
            listed = [i for i in (props.get("hs_merged_object_ids") or "").split(";") if i]
            previously = (other["properties"].get("hs_merged_object_ids") or "").split(";")
            listed += [i for i in (*previously, other["id"]) if i and i not in listed]
            props["hs_merged_object_ids"] = ";".join(listed)
            primary["updatedAt"] = now_iso()

            def moved(kind: str, object_id: str) -> str:
                same = kind == object_type and object_id == other["id"]
                return primary["id"] if same else object_id

            rows = [(a, moved(a, i), b, moved(b, j), t) for a, i, b, j, t in self.associations]
            self.associations = list(dict.fromkeys(rows))
            del self.objects[object_type][other["id"]]
            self.merged[object_type][other["id"]] = primary["id"]
            self._announce(
                object_type,
                primary["id"],
                "merge",
                change_source=change_source,
                extra={
                    "primaryObjectId": int(primary["id"]),
                    "mergedObjectIds": [int(other["id"])],
                    "newObjectId": int(primary["id"]),
                },
            )
            self.save()
            return primary

    # Associations ---------------------------------------------------------------

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two objects with HubSpot's default types, both ways."""
        with self.lock:
            for a_type, a_id, b_type, b_id in (
                (from_type, from_id, to_type, to_id),
                (to_type, to_id, from_type, from_id),
            ):
                for type_id in DEFAULT_ASSOCIATIONS.get((a_type, b_type), [0]):
                    row = (a_type, str(a_id), b_type, str(b_id), type_id)
                    if type_id not in self.associated(a_type, a_id, b_type).get(str(b_id), []):
                        self.associations.append(row)
            self.save()

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        """Return {to_id: [association type ids]} for one object."""
        with self.lock:
            found = self._associations_index().get((from_type, str(from_id), to_type), {})
            return {to_id: list(types) for to_id, types in found.items()}

    def _associations_index(self) -> dict[tuple[str, str, str], dict[str, list[int]]]:
        """The associations by (from type, from id, to type), brought up to date with the
        rows appended since (rows are only ever appended, or the whole list replaced)."""
        rows = self.associations
        if getattr(self, "_indexed_rows", None) is not rows:
            self._indexed_rows, self._indexed, self._index = rows, 0, {}
        for a_type, a_id, b_type, b_id, type_id in rows[self._indexed :]:
            self._index.setdefault((a_type, a_id, b_type), {}).setdefault(b_id, []).append(type_id)
        self._indexed = len(rows)
        return self._index

    def associated_ids(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Return the ids of the objects associated with one object."""
        return list(self.associated(from_type, from_id, to_type))

    # Faults ---------------------------------------------------------------------

    def set_fault(
        self,
        *,
        status: int | None = None,
        count: int | None = None,
        retry_after: int | None = None,
        latency_ms: int = 0,
        path_prefix: str = "/crm/",
        method: str | None = None,
        after: bool = False,
    ) -> None:
        """Make the next `count` API calls (all, when None) fail or slow down.

        `path_prefix` and `method` (e.g. "PATCH") narrow which calls; with `after` the call
        is carried out first and only its answer fails or comes late, as when HubSpot saved
        a change but the connection dropped.
        """
        with self.lock:
            self.faults.append(
                {
                    "status": status,
                    "count": count,
                    "retry_after": retry_after,
                    "latency_ms": latency_ms,
                    "path_prefix": path_prefix,
                    "method": method,
                    "after": after,
                }
            )

    def clear_faults(self) -> None:
        """Answer normally again."""
        with self.lock:
            self.faults = []

    def fault_for(self, method: str, path: str) -> dict | None:
        """Return the fault that applies to this request, using one of its count."""
        with self.lock:
            for fault in self.faults:
                if (
                    path.startswith(fault["path_prefix"])
                    and fault["method"] in (None, method)
                    and fault["count"] != 0
                ):
                    if fault["count"] is not None:
                        fault["count"] -= 1
                    return dict(fault)
        return None

    # Events and persistence -----------------------------------------------------------

    def _announce(
        self,
        object_type: str,
        object_id: str,
        action: str,
        *,
        change_source: str,
        name: str | None = None,
        value: str | None = None,
        extra: dict | None = None,
    ) -> None:
        change = {
            "objectType": SINGULAR[object_type],
            "objectId": int(object_id),
            "action": action,
            "changeSource": change_source,
            "occurredAt": int(time.time() * 1000),
        }
        if name is not None:
            change |= {"propertyName": name, "propertyValue": value}
        change |= extra or {}
        for listener in self.listeners:
            listener(change)

    def dump(self) -> dict:
        """Return the whole state as JSON-ready data."""
        with self.lock:
            return {
                "objects": self.objects,
                "associations": self.associations,
                "pipelines": self.pipelines,
                "next_id": self.next_id,
                "merged": self.merged,
                "groups": self.groups,
                "properties": self.properties,
            }

    def load(self, data: dict) -> None:
        """Replace the state with a dump."""
        with self.lock:
            self.objects = data["objects"]
            self.associations = [tuple(row) for row in data["associations"]]
            self.pipelines = data["pipelines"]
            self.next_id = data["next_id"]
            self.merged = data.get("merged") or {t: {} for t in OBJECT_TYPES}
            self.groups = data.get("groups", self.groups)
            self.properties = data.get("properties", self.properties)

    def load_or_seed(self, seed: str) -> None:
        """Load the state file if there is one, else seed."""
        if self.state_file and os.path.exists(self.state_file):
            with open(self.state_file, encoding="utf-8") as f:
                self.load(json.load(f))
        else:
            self.reset(seed)

    def save(self) -> None:
        """Write the state file, when there is one."""
        if not self.state_file:
            return
        temporary = f"{self.state_file}.tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(self.dump(), f)
        os.replace(temporary, self.state_file)


def _text(value) -> str | None:
    """Return a property value as HubSpot stores it: text, or None."""
    return None if value is None else str(value)
