"""The job register over REST, for a field app or another tool."""

from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from operations import services
from operations.models import Crew, Job, JobLine
from operations.transitions import TransitionRefused

EDITABLE = {
    "status",
    "scheduled_start",
    "scheduled_end",
    "crew",
    "site_address",
    "site_contact",
    "site_notes",
    "completion_note",
}


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLine
        fields = ["description", "quantity", "unit_price", "discount", "item_code", "tax"]


class JobSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.name", read_only=True)
    crew = serializers.SlugRelatedField(
        slug_field="name", queryset=Crew.objects.all(), allow_null=True, required=False
    )
    lines = LineSerializer(many=True, read_only=True)
    completion_note = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = Job
        fields = [
            "number",
            "customer",
            "title",
            "status",
            "scheduled_start",
            "scheduled_end",
            "crew",
            "site_address",
            "site_contact",
            "site_notes",
            "notes",
            "amount",
            "currency",
            "lines",
            "completed_at",
            "completion_note",
            "invoice_number",
            "invoice_status",
            "amount_invoiced",
            "amount_paid",
            "amount_due",
            "origin_system",
            "origin_ref",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in EDITABLE]


class JobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Jobs: list (?status=), read, and PATCH what operations owns, through the same rules."""

    serializer_class = JobSerializer
    lookup_field = "number"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        jobs = Job.objects.select_related("customer", "crew").prefetch_related("lines")
        if status := self.request.query_params.get("status"):
            jobs = jobs.filter(status=status)
        return jobs.order_by("scheduled_start", "number")

    def perform_update(self, serializer):
        unknown = set(self.request.data) - EDITABLE
        if unknown:
            raise ValidationError(
                {
                    name: "Unknown or read-only field; editable fields are: "
                    + ", ".join(sorted(EDITABLE))
                    for name in sorted(unknown)
                }
            )
        job, data, user = serializer.instance, serializer.validated_data, self.request.user
        try:
            if {"scheduled_start", "scheduled_end", "crew"} & set(data):
                job = services.job_reschedule(
                    job=job,
                    start=data.get("scheduled_start", job.scheduled_start),
                    end=data.get("scheduled_end", job.scheduled_end),
                    crew=data.get("crew", job.crew),
                    by=user,
                )
            if {"site_address", "site_contact", "site_notes"} & set(data):
                job = services.job_site_update(
                    job=job,
                    site_address=data.get("site_address", job.site_address),
                    site_contact=data.get("site_contact", job.site_contact),
                    site_notes=data.get("site_notes", job.site_notes),
                    by=user,
                )
            status = data.get("status")
            if status == Job.Status.DONE:
                job = services.job_complete(job=job, by=user, note=data.get("completion_note", ""))
            elif status and status != job.status:
                job = services.job_transition(job=job, to=status, by=user)
        except TransitionRefused as refused:
            raise ValidationError({"status": str(refused)}) from refused
        serializer.instance = job
