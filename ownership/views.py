"""The ownership rules in the dashboard: office staff read them, admins edit them."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from integration_hub.permissions import admin_required, is_admin, office_staff_required
from ownership.catalogue import EDITORS, ON_DISAGREEMENT, SYSTEMS
from ownership.models import FieldRule
from ownership.services import RuleInvalid, field_rule_save


def _carriers_text(carriers: dict) -> str:
    return "\n".join(f"{system}: {name}" for system, name in carriers.items())


def _carriers_parse(text: str) -> dict[str, str]:
    carriers = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        system, sep, name = line.partition(":")
        if not sep:
            raise RuleInvalid(f"Write each carrier as 'system: field name', not '{line.strip()}'.")
        carriers[system.strip()] = name.strip()
    return carriers


@office_staff_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """Show every shared field's owner, carriers, editors and disagreement rule."""
    rules = FieldRule.objects.all()
    return render(
        request,
        "ownership/rule_list.html",
        {"rules": rules, "systems": SYSTEMS, "can_edit": is_admin(request.user)},
    )


@admin_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Let an admin change one rule, with validation and its history alongside."""
    rule = get_object_or_404(FieldRule, pk=pk)
    carriers_text = _carriers_text(rule.carriers)
    if request.method == "POST":
        post = request.POST
        carriers_text = post.get("carriers", "")
        try:
            field_rule_save(
                record_type=rule.record_type,
                field=rule.field,
                owner=post.get("owner", ""),
                carriers=_carriers_parse(carriers_text),
                editable_by=post.get("editable_by", ""),
                on_disagreement=post.get("on_disagreement", ""),
                note=post.get("note", "").strip(),
                by=request.user,
            )
        except RuleInvalid as invalid:
            messages.error(request, str(invalid))
        else:
            messages.success(request, f"The rule for {rule} is saved.")
            return redirect("ownership:rule_edit", pk=rule.pk)
    context = {
        "rule": rule,
        "carriers_text": carriers_text,
        "systems": SYSTEMS,
        "editors": EDITORS,
        "choices": ON_DISAGREEMENT,
        "history": rule.history.select_related("history_user")[:30],
    }
    return render(request, "ownership/rule_edit.html", context)
