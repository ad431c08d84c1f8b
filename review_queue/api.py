"""The review queue over REST: list, read, preview, resolve and assign items."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from review_queue.actions import actions_for
from review_queue.models import ReviewItem, ReviewLog
from review_queue.selectors import QueueFilter, review_items_filtered
from review_queue.services import (
    ResolutionRefused,
    review_item_assign,
    review_item_preview,
    review_item_resolve,
)


class ReviewLogSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ReviewLog
        fields = ["at", "by", "action", "note", "outcome", "succeeded"]


class ReviewItemSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "kind",
            "status",
            "system",
            "record_type",
            "record_ref",
            "record_label",
            "title",
            "reason",
            "action",
            "vendor_error",
            "occurrences",
            "first_seen",
            "last_seen",
            "assignee",
            "resolved_at",
            "resolved_by",
            "resolution",
            "resolution_note",
            "actions",
        ]

    def get_actions(self, item: ReviewItem) -> list[dict]:
        if not item.is_open:
            return []
        return [
            {"name": a.name, "label": a.label, "fields": [f.name for f in a.fields]}
            for a in actions_for(item)
        ] + [{"name": "dismiss", "label": "Dismiss", "fields": ["note"]}]


class ItemDetailSerializer(ReviewItemSerializer):
    log = ReviewLogSerializer(many=True, read_only=True)

    class Meta(ReviewItemSerializer.Meta):
        fields = [*ReviewItemSerializer.Meta.fields, "log"]


class ResolveSerializer(serializers.Serializer):
    action = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    values = serializers.DictField(child=serializers.CharField(), required=False, default=dict)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), allow_null=True
    )


class ReviewItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review items. Filter with the queue's parameters: status, kind, system, q, age, sort."""

    serializer_class = ReviewItemSerializer

    def get_queryset(self):
        if self.action == "list":
            return review_items_filtered(
                QueueFilter.from_query(self.request.query_params), user=self.request.user
            )
        return ReviewItem.objects.select_related("assignee", "resolved_by")

    def get_serializer_class(self):
        return ItemDetailSerializer if self.action == "retrieve" else ReviewItemSerializer

    @extend_schema(request=ResolveSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None, format=None):
        """Return what an action would do, without doing it."""
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            text = review_item_preview(
                item=self.get_object(),
                action=body.validated_data["action"],
                values=body.validated_data["values"],
            )
        except ResolutionRefused as refused:
            raise ValidationError({"action": str(refused)}) from refused
        return Response({"preview": text})

    @extend_schema(request=ResolveSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None, format=None):
        """Apply an action (or dismiss with a note) and return the outcome."""
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            outcome = review_item_resolve(
                item=self.get_object(), by=request.user, **body.validated_data
            )
        except ResolutionRefused as refused:
            raise ValidationError({"action": str(refused)}) from refused
        return Response({"outcome": outcome})

    @extend_schema(request=AssignSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None, format=None):
        """Give the item to a person (by username), or to nobody (null)."""
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review_item_assign(
            item=self.get_object(), by=request.user, assignee=body.validated_data["assignee"]
        )
        return Response({"outcome": "Assignment saved."})
