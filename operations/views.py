"""Pages of the job register."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from operations.models import Job


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """List jobs, newest first."""
    jobs = Job.objects.select_related("customer")[:200]
    return render(request, "operations/job_list.html", {"jobs": jobs})


@login_required
def job_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show a job with what was promised."""
    job = get_object_or_404(Job.objects.select_related("customer"), number=number)
    return render(request, "operations/job_detail.html", {"job": job, "lines": job.lines.all()})
