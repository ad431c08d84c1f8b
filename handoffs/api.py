"""Handoff runs over REST: list, read with attempts, replay."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from handoffs.models import HandoffAttempt, HandoffRun
from handoffs.runs import ReplayRefused, handoff_run_replay


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoffAttempt
        fields = [
            "number",
            "outcome",
            "started_at",
            "finished_at",
            "error_code",
            "message",
            "calls",
        ]


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoffRun
        fields = [
            "id",
            "handoff",
            "key",
            "queue",
            "state",
            "attempts",
            "record_system",
            "record_type",
            "record_ref",
            "record_label",
            "summary",
            "result",
            "review_item",
            "next_attempt_at",
            "created_at",
            "started_at",
            "finished_at",
        ]


class RunDetailSerializer(RunSerializer):
    attempts_made = AttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "attempts_made"]


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Handoff runs, newest first; filter with ?handoff= and ?state=."""

    def get_queryset(self):
        runs = HandoffRun.objects.all()
        for name in ("handoff", "state"):
            if value := self.request.query_params.get(name):
                runs = runs.filter(**{name: value})
        return runs

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None, format=None):
        """Run a finished handoff again (its effects are idempotent)."""
        try:
            handoff_run_replay(run=self.get_object())
        except ReplayRefused as refused:
            raise ValidationError({"state": str(refused)}) from refused
        return Response({"outcome": "Replay sent to the workers."})
