"""The ownership rules in the dashboard: office staff read them, admins edit them."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from connectors.registry import systems
from integration_hub import labels
from integration_hub.permissions import admin_required, is_admin, office_staff_required
from ownership.catalogue import EDITORS, ON_DISAGREEMENT, field_of
from ownership.models import FieldRule
from ownership.services import RuleInvalid, field_rule_save


def _holders(rule: FieldRule) -> list[dict]:
    """Every system that can hold the rule's field: its name, label and name for the field."""
    return [
        {
            "system": name,
            "label": labels.sentence(store.label),
            "field": store.fields[(rule.record_type, rule.field)],
            "called": labels.system_field_label(name, store.fields[(rule.record_type, rule.field)]),
        }
        for name, store in systems().items()
        if (rule.record_type, rule.field) in store.fields
    ]


def _carriers_chosen(rule: FieldRule, chosen: list[str]) -> dict[str, str]:
    """The carriers an admin ticked, with what each system calls the field."""
    held = {h["system"]: h["field"] for h in _holders(rule)}
    return {system: held.get(system, "") for system in chosen}


def _said(rule: FieldRule) -> str:
    """The rule's field in words: "customer's ABN"."""
    kind = labels.label("record_type", rule.record_type)
    return f"{kind}'s {field_of(rule.record_type, rule.field).label}"


def _version(version) -> dict:
    """One version of a rule in the history, in words (never the stored codes)."""
    carriers = version.carriers or {}
    return {
        "at": version.history_date,
        "by": version.history_user,
        "owner": labels.sentence(labels.system_label(version.owner)),
        "carriers": ", ".join(
            f"{labels.system_label(s)} (as “{labels.system_field_label(s, name)}”)"
            for s, name in carriers.items()
        )
        or "nowhere",
        "editable_by": labels.label("editor", version.editable_by),
        "on_disagreement": labels.label("on_disagreement", version.on_disagreement),
        "note": version.note,
    }


@office_staff_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """Show every shared field's owner, carriers, editors and disagreement rule."""
    rules = [
        {
            "rule": rule,
            "label": field_of(rule.record_type, rule.field).label,
            "owner": labels.sentence(labels.system_label(rule.owner)),
            "carriers": [
                (labels.system_label(s), labels.system_field_label(s, name))
                for s, name in rule.carriers.items()
            ],
        }
        for rule in FieldRule.objects.all()
    ]
    return render(
        request, "ownership/rule_list.html", {"rules": rules, "can_edit": is_admin(request.user)}
    )


@admin_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Let an admin change one rule, with validation and its history alongside."""
    rule = get_object_or_404(FieldRule, pk=pk)
    carrying = list(rule.carriers)
    if request.method == "POST":
        post = request.POST
        carrying = post.getlist("carriers")
        try:
            field_rule_save(
                record_type=rule.record_type,
                field=rule.field,
                owner=post.get("owner", ""),
                carriers=_carriers_chosen(rule, carrying),
                editable_by=post.get("editable_by", ""),
                on_disagreement=post.get("on_disagreement", ""),
                note=post.get("note", "").strip(),
                by=request.user,
            )
        except RuleInvalid as invalid:
            messages.error(request, str(invalid))
        else:
            messages.success(request, f"The rule for the {_said(rule)} is saved.")
            return redirect("ownership:rule_edit", pk=rule.pk)
    context = {
        "rule": rule,
        "label": field_of(rule.record_type, rule.field).label,
        "holders": _holders(rule),
        "carrying": carrying,
        "editors": EDITORS,
        "choices": ON_DISAGREEMENT,
        "history": [_version(h) for h in rule.history.select_related("history_user")[:30]],
    }
    return render(request, "ownership/rule_edit.html", context)
