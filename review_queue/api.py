"""The review queue over REST: list, read, preview, resolve and assign items."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from review_queue.actions import actions_for
from review_queue.models import ReviewItem, ReviewLog
from review_queue.selectors import (
    WAITING_RUNS,
    QueueFilter,
    review_items_filtered,
    review_items_page,
)
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


class QueuePagination(PageNumberPagination):
    """The queue's own pages (review_queue/selectors.py `review_items_page`), as the
    dashboard reads them: ids first from the matching index, and a count exact up to
    COUNT_CAP (`count_exact` says whether it is; beyond, the items are more than `count`)."""

    page_size_query_param, max_page_size = "page_size", 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            number = int(request.query_params.get(self.page_query_param, 1))
        except ValueError:
            number = 0
        if number < 1:
            raise NotFound("The page must be a whole number from 1.")
        self.request = request
        self.page = review_items_page(
            queryset, number=number, size=self.get_page_size(request), annotations=WAITING_RUNS
        )
        if self.page.past_end:
            raise NotFound(f"There are {self.page.num_pages} pages; page {number} is past the end.")
        return self.page.object_list

    def get_paginated_response(self, data):
        url = self.request.build_absolute_uri()
        page = self.page
        return Response(
            {
                "count": page.count,
                "count_exact": page.exact,
                "next": replace_query_param(url, "page", page.next_page_number)
                if page.has_next
                else None,
                "previous": replace_query_param(url, "page", page.previous_page_number)
                if page.has_previous
                else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        paged = super().get_paginated_response_schema(schema)
        paged["properties"]["count_exact"] = {"type": "boolean"}
        return paged


class ReviewItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review items. Filter with the queue's parameters: status, kind, system, q, age, sort."""

    serializer_class = ReviewItemSerializer
    pagination_class = QueuePagination

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
