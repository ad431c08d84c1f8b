"""What changed on a list page since it was drawn: the quiet "3 new items · Show" notice.

A list page (the review queue, the job list, Home) never moves its rows by itself. When it
is drawn it notes the highest id of its rows' table, the time, and the ids of the rows it
shows (`Seen`). Its notice (`templates/_news.html`) asks every `PAGE_POLL_SECONDS`, while
the tab is visible, how many rows matching the same filters are newer and how many of the
rows on screen changed since: counts on the primary key, never the rows themselves. The
answer is 204, and nothing moves, until a count changes; **Show** draws the list afresh.
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The parameters the notice adds to the page's own query string.
PARAMS = ("last", "at", "shown", "said")
# At most this many ids of rows on screen are watched (a page of the job list shows 50).
SHOWN_MAX = 100


@dataclass(frozen=True)
class Seen:
    """What a list page showed: the highest id then, when, and the ids of its rows."""

    last: int
    at: datetime
    shown: tuple[int, ...] = ()

    @classmethod
    def now(cls, model: type[Model]) -> "Seen":
        """Take note before the page reads its rows: a row added meanwhile is then counted
        as new (and shown twice at worst), never missed."""
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return cls(last=last or 0, at=timezone.now())

    def showing(self, rows) -> "Seen":
        return Seen(self.last, self.at, tuple(row.pk for row in rows)[:SHOWN_MAX])

    @classmethod
    def from_query(cls, params: QueryDict) -> "Seen":
        """Read what the page said it showed; anything unreadable counts as nothing seen."""
        last = params.get("last", "")
        at = parse_datetime(params.get("at", "")) or timezone.now()
        shown = [pk for pk in params.get("shown", "").split(",") if pk.isdigit()]
        return cls(
            last=int(last) if last.isdigit() else 0,
            at=at if timezone.is_aware(at) else timezone.make_aware(at),
            shown=tuple(int(pk) for pk in shown[:SHOWN_MAX]),
        )

    def query(self, said: str = "0-0") -> str:
        return urlencode(
            {
                "last": self.last,
                "at": self.at.isoformat(),
                "shown": ",".join(map(str, self.shown)),
                "said": said,
            }
        )


@dataclass(frozen=True)
class News:
    """How many rows are new and how many on screen changed, in words."""

    new: int = 0
    changed: int = 0
    noun: str = "item"
    changed_word: str = "changed"

    @property
    def said(self) -> str:
        return f"{self.new}-{self.changed}"

    @property
    def text(self) -> str:
        parts = []
        if self.new:
            parts.append(f"{self.new} new {self.noun}{'' if self.new == 1 else 's'}")
        if self.changed:
            noun = "" if self.new else f" {self.noun}{'' if self.changed == 1 else 's'}"
            parts.append(f"{self.changed}{noun} {self.changed_word}")
        return ", ".join(parts)


def filters_query(params: QueryDict) -> str:
    """The page's own query string without its page number and the notice's parameters."""
    query = params.copy()
    for name in ("page", *PARAMS):
        query.pop(name, None)
    return query.urlencode()


def news_context(
    *, seen: Seen, news: News, endpoint: str, filters: str, show_url: str, target: str
) -> dict:
    """What `_news.html` needs: where to ask again (the notice's endpoint with the page's
    filters and what it saw), what to say, and what Show redraws (`target`, from
    `show_url`; no target: Show reloads the page)."""
    return {
        "news": news,
        "news_poll_url": f"{endpoint}?{filters}{'&' if filters else ''}{seen.query(news.said)}",
        "news_show_url": show_url,
        "news_target": target,
        "news_every": settings.PAGE_POLL_SECONDS,
    }


def list_news(request: HttpRequest, seen: Seen, news: News, *, endpoint: str, page: str) -> dict:
    """`news_context` for a list page named `page` (a URL name) whose htmx requests get its
    table alone: Show draws that table afresh into `#<the table's id>`, with the filters."""
    filters = filters_query(request.GET)
    list_url, table = page.split("#")
    return news_context(
        seen=seen,
        news=news,
        endpoint=reverse(endpoint),
        filters=filters,
        show_url=f"{reverse(list_url)}?{filters}",
        target=f"#{table}",
    )


def unchanged(params: QueryDict, news: News) -> HttpResponse | None:
    """204 when the page already says these counts: htmx then leaves the notice alone."""
    if params.get("said") == news.said:
        return HttpResponse(status=204)
    return None
