"""The template filters that put integration_hub/labels.py's words on every page.

Built into every template (settings.TEMPLATES' builtins), so no page needs to load them:

    {{ item.system|plain:"system" }}            HubSpot
    {{ run.handoff|plain:"handoff" }}           Won deal to job
    {{ f.field|field_plain:f.record_type }}     ABN
    {{ name|system_field_plain:"hubspot" }}     Job status
    {{ event|event_record }}                    HubSpot deal 1018
    {{ event|event_change }}                    Job status → On hold
    {% record_words system type ref name %}     HubSpot deal 1018 (Kitchen rewire)
"""

from django import template

from integration_hub import labels

register = template.Library()


@register.filter
def plain(code, namespace: str) -> str:
    """A code in plain words: `{{ run.state|plain:"run_state" }}`."""
    return labels.label(namespace, str(code)) if code not in (None, "") else ""


@register.filter
def field_plain(name, record_type: str) -> str:
    """A shared field's name in plain words, for its record type."""
    return labels.field_label(str(record_type), str(name)) if name else ""


@register.filter
def system_field_plain(name, system: str) -> str:
    """What a system's own screens call one of its fields."""
    return labels.system_field_label(str(system), str(name)) if name else ""


@register.filter
def event_record(event) -> str:
    """The record a stored event is about, in words ("HubSpot deal 1018")."""
    noun = labels.event_noun(event.event_type)
    return labels.record_phrase(event.source, noun, event.object_id) if event.object_id else ""


@register.filter
def event_change(event) -> str:
    """What a property-change event says changed ("Job status → On hold"), or ""."""
    name = event.payload.get("propertyName") if isinstance(event.payload, dict) else None
    if not name:
        return ""
    return labels.property_change(event.source, name, event.payload.get("propertyValue"))


@register.simple_tag
def record_words(system, record_type, ref, name="") -> str:
    """Which record an id is, in words (autoescaped like any variable)."""
    return labels.record_phrase(str(system), str(record_type), str(ref), str(name or ""))
