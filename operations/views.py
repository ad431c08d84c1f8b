"""Pages of the job register for operations staff."""

import hashlib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from connectors.registry import finance, operations
from handoffs.flows.job_done_to_invoice import invoicing_run
from integration_hub import labels
from integration_hub.news import News, Seen, list_news, unchanged
from integration_hub.permissions import office_staff_required
from operations import services, tasks
from operations.columns import OPTIONAL, REQUIRED
from operations.exports import jobs_csv, jobs_xlsx
from operations.imports import (
    BACKGROUND_ROWS,
    ImportRefused,
    customer_rows_apply,
    customer_rows_parse,
    import_queue,
    rows_apply,
    rows_parse,
    sheet_kind,
)
from operations.models import Crew, Job, JobEvidence, JobImport, JobLine
from operations.selectors import JobFilter, jobs_filtered, schedule
from operations.transitions import TransitionRefused, next_statuses
from ownership.models import Link
from ownership.selectors import invoice_organisation
from review_queue.links import record_url
from review_queue.models import ReviewItem

JOB_ACTIONS = {"status", "schedule", "site", "pricing", "tax", "evidence", "material", "done"}


@office_staff_required
def job_list(request: HttpRequest) -> HttpResponse:
    """List jobs with filters and search; export them as CSV or XLSX."""
    f = JobFilter.from_query(request.GET)
    jobs = jobs_filtered(f)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        body = jobs_csv(jobs) if export == "csv" else jobs_xlsx(jobs)
        kind = (
            "text/csv"
            if export == "csv"
            else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="jobs.{export}"'
        return response
    seen = Seen.now(Job)
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "f": f,
        "query": query.urlencode(),
        "statuses": Job.Status.choices,
        "crews": Crew.objects.filter(active=True),
        "today": request.GET.get("today"),
        **list_news(
            request,
            seen.showing(page.object_list),
            News(noun="job"),
            endpoint="operations:job_news",
            page="operations:job_list#jobs",
        ),
    }
    template = "operations/_job_table.html" if request.htmx else "operations/job_list.html"
    return render(request, template, context)


@office_staff_required
@require_safe
def job_news(request: HttpRequest) -> HttpResponse:
    """The job list's notice: jobs matching its filters made since it was drawn, and jobs
    on screen that changed (a status, a booking, an invoice)."""
    seen = Seen.from_query(request.GET)
    news = News(
        new=jobs_filtered(JobFilter.from_query(request.GET)).filter(pk__gt=seen.last).count(),
        changed=Job.objects.filter(pk__in=seen.shown, updated_at__gt=seen.at).count()
        if seen.shown
        else 0,
        noun="job",
    )
    return unchanged(request.GET, news) or render(
        request,
        "_news.html",
        list_news(
            request, seen, news, endpoint="operations:job_news", page="operations:job_list#jobs"
        ),
    )


@office_staff_required
def job_schedule(request: HttpRequest) -> HttpResponse:
    """Show the jobs booked by day, for a day or a week."""
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = timezone.localdate()
    days = 1 if request.GET.get("view") == "day" else 7
    if days == 7:
        start -= timedelta(days=start.weekday())
    context = {
        "days": schedule(start=start, days=days),
        "start": start,
        "view": "day" if days == 1 else "week",
        "prev": start - timedelta(days=days),
        "next": start + timedelta(days=days),
    }
    return render(request, "operations/schedule.html", context)


@office_staff_required
def job_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show a job: what sales promised and finance invoiced (read-only), what operations edits."""
    job = get_object_or_404(
        Job.objects.select_related("customer", "crew", "completed_by"), number=number
    )
    lines_total = job.lines_total
    context = {
        "job": job,
        "lines": job.lines.all(),
        "tax_choices": JobLine.Tax.choices,
        "figures": job.figures,
        "xero_figures": job.xero_figures,
        "figures_item": _open_item(job, ReviewItem.Kind.FIGURES_DIFFER),
        "lines_total": lines_total,
        "promise_gap": abs(lines_total - job.amount),
        "lines_more": lines_total > job.amount,
        "promise_item": _open_item(job, ReviewItem.Kind.PROMISE_DIFFERS),
        "materials": job.materials.all(),
        "evidence": job.evidence.all(),
        "next_statuses": next_statuses(job),
        "crews": Crew.objects.filter(active=True),
        "history": job.history.select_related("history_user")[:20],
        **_finance(job),
        **_origin(job),
    }
    return render(request, "operations/job_detail.html", context)


def _open_item(job: Job, kind: str) -> ReviewItem | None:
    """The job's open review item of this kind, if any."""
    return ReviewItem.objects.filter(
        kind=kind, record_type="job", record_ref=job.number, status=ReviewItem.Status.OPEN
    ).first()


def _invoiced_in(job: Job) -> str:
    """The name of the finance organisation the job's invoice went to ("" if not known)."""
    money = finance()
    tenant = invoice_organisation(
        job_number=job.number, register=operations().system, finance=money.system
    )
    return money.organisations().get(tenant, "") if tenant else ""


def _finance(job: Job) -> dict:
    """What the job page's finance part shows, and a fingerprint of it: the invoice, or
    where the invoicing stands (its run, the review item it waits on)."""
    run = invoicing_run(job.number) if job.status == Job.Status.DONE else None
    item = run.review_item if run and run.review_item and run.review_item.is_open else None
    shown = (
        job.status_label,
        job.invoice_number,
        job.invoice_status,
        job.amount_invoiced,
        job.amount_paid,
        job.amount_due,
        run and (run.pk, run.state, run.summary),
        item and item.pk,
    )
    seen = hashlib.sha256(repr(shown).encode()).hexdigest()[:16]
    return {
        "job": job,
        "invoiced_in": _invoiced_in(job) if job.invoice_number else "",
        "invoicing": run,
        "invoicing_item": item,
        "finance_seen": seen,
        "finance_every": settings.PAGE_POLL_SECONDS,
    }


@office_staff_required
@require_safe
def job_finance(request: HttpRequest, number: str) -> HttpResponse:
    """The job page's finance part, which asks for itself every PAGE_POLL_SECONDS: 204 while
    it shows what the page already shows; else itself and the job's status badge."""
    job = get_object_or_404(Job, number=number)
    context = _finance(job)
    if request.GET.get("seen") == context["finance_seen"]:
        return HttpResponse(status=204)
    return render(request, "operations/_job_finance.html", context | {"oob": True})


def _origin(job: Job) -> dict:
    """Which deal the job was promised by, in words (with its name where the hub knows it),
    and where it opens."""
    if not job.origin_ref:
        return {"origin": "", "origin_url": ""}
    deal = (
        Link.objects.filter(
            system=job.origin_system, record_type="deal", external_id=job.origin_ref
        )
        .select_related("record")
        .first()
    )
    name = deal.record.label if deal else ""
    return {
        "origin": labels.record_phrase(job.origin_system, "deal", job.origin_ref, name),
        "origin_url": record_url(job.origin_system, "deal", job.origin_ref),
    }


@office_staff_required
@require_safe
def evidence_file(request: HttpRequest, number: str, pk: int) -> FileResponse:
    """Serve one piece of delivery evidence: a photo or PDF inline, anything else as a download."""
    evidence = get_object_or_404(JobEvidence, pk=pk, job__number=number)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("This evidence's file is missing from storage.") from missing
    # Only the types checked by content at upload are shown in the browser.
    inline = evidence.content_type in services.EVIDENCE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=evidence.filename,
        content_type=evidence.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private"
    return response


def _when(text: str) -> datetime | None:
    if not text:
        return None
    return timezone.make_aware(datetime.fromisoformat(text))


@office_staff_required
@require_POST
def job_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Apply one change operations owns: status, schedule, site, evidence, material, done."""
    if action not in JOB_ACTIONS:
        raise Http404(f"No job action '{action}'.")
    job = get_object_or_404(Job, number=number)
    post, user = request.POST, request.user
    try:
        if action == "status":
            services.job_transition(job=job, to=post.get("status", ""), by=user)
            messages.success(request, "Status changed.")
        elif action == "schedule":
            crew = Crew.objects.filter(pk=post.get("crew") or None).first()
            services.job_reschedule(
                job=job,
                start=_when(post.get("start", "")),
                end=_when(post.get("end", "")),
                crew=crew,
                by=user,
            )
            messages.success(request, "Schedule saved.")
        elif action == "site":
            services.job_site_update(
                job=job,
                site_address=post.get("site_address", ""),
                site_contact=post.get("site_contact", ""),
                site_notes=post.get("site_notes", ""),
                by=user,
            )
            messages.success(request, "Site details saved.")
        elif action == "pricing":
            include = post.get("prices_include_gst") == "yes"
            services.job_pricing_set(job=job, prices_include_gst=include, by=user)
            messages.success(
                request, "Prices include GST." if include else "GST is added to the prices."
            )
        elif action == "tax":
            taxes = {
                int(name.removeprefix("line-")): value
                for name, value in post.items()
                if name.startswith("line-") and name.removeprefix("line-").isdigit()
            }
            changed = services.job_line_tax_set(job=job, taxes=taxes, by=user)
            messages.success(request, f"Tax changed on {changed} line(s).")
        elif action == "evidence":
            upload = request.FILES.get("file")
            if upload is None:
                raise services.EvidenceRefused("Choose a photo or PDF to upload first.")
            services.evidence_add(job=job, upload=upload, note=post.get("note", ""), by=user)
            messages.success(request, f"'{upload.name}' added to the job.")
        elif action == "material":
            services.material_add(
                job=job,
                description=post.get("description", "").strip(),
                quantity=post.get("quantity") or "1",
                item_code=post.get("item_code", "").strip(),
                by=user,
            )
            messages.success(request, "Material recorded.")
        elif action == "done":
            services.job_complete(job=job, by=user, note=post.get("note", ""))
            messages.success(request, f"Job {job.number} marked done. Finance will be told.")
    except (TransitionRefused, services.EvidenceRefused, ValueError) as refused:
        messages.error(request, str(refused))
    return redirect("operations:job_detail", number=job.number)


@office_staff_required
def job_import(request: HttpRequest) -> HttpResponse:
    """Upload a spreadsheet and preview it; nothing is imported until the person confirms."""
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        pending = JobImport.objects.create(
            file=upload, filename=upload.name, uploaded_by=request.user
        )
        return redirect("operations:job_import_preview", pk=pending.pk)
    return render(request, "operations/import.html", {"required": REQUIRED, "optional": OPTIONAL})


@office_staff_required
def job_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Show each row and its problems; confirming applies the import (jobs or customers)."""
    pending = get_object_or_404(JobImport, pk=pk)
    if pending.in_background:
        return render(request, "operations/import_progress.html", {"pending": pending})
    rows, refusal, kind = [], "", ""
    try:
        content = pending.file.read()
        kind = sheet_kind(pending.filename, content)
        rows = (rows_parse if kind == "jobs" else customer_rows_parse)(pending.filename, content)
    except ImportRefused as refused:
        refusal = str(refused)
    background = kind == "jobs" and len(rows) > BACKGROUND_ROWS
    if request.method == "POST" and rows and pending.applied_at is None and background:
        skip_bad = request.POST.get("skip_bad") == "on"
        try:
            if import_queue(pending=pending, rows=rows, skip_bad=skip_bad):
                transaction.on_commit(
                    lambda: tasks.import_apply.delay(pending.pk, skip_bad, request.user.pk)
                )
            return redirect("operations:job_import_preview", pk=pending.pk)
        except ImportRefused as refused:
            messages.error(request, str(refused))
    elif request.method == "POST" and rows and pending.applied_at is None:
        apply = rows_apply if kind == "jobs" else customer_rows_apply
        try:
            counts = apply(
                rows=rows, skip_bad=request.POST.get("skip_bad") == "on", by=request.user
            )
        except ImportRefused as refused:
            messages.error(request, str(refused))
        else:
            pending.applied_at, pending.summary = timezone.now(), counts
            pending.save()
            messages.success(
                request,
                f"Imported {kind}: {counts['created']} new, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged; "
                f"{labels.count_of(counts['skipped'], 'row', 'rows')} with problems skipped.",
            )
            return redirect("operations:job_list" if kind == "jobs" else "operations:job_import")
    context = {
        "pending": pending,
        "rows": rows[:200],
        "count": len(rows),
        "ready": sum(1 for row in rows if not row.errors),
        "errors": [error for row in rows for error in row.errors],
        "notes": [note for row in rows for note in row.notes],
        "refusal": refusal,
        "kind": kind,
        "background": background,
    }
    return render(request, "operations/import_preview.html", context)


@office_staff_required
@require_safe
def job_import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A background import's progress bar (htmx asks again every second while it runs)."""
    pending = get_object_or_404(JobImport, pk=pk)
    return render(request, "operations/_import_progress.html", {"pending": pending})
