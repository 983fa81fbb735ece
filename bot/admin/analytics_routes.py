"""Console analytics (staff and up, read-only): GET /admin/analytics (the dashboard) and /admin/analytics.csv.

Filters in the query string: `month=YYYY-MM`, or `from` / `to` (ISO dates, both included; default the last
30 days), `agency` (a code) and `channel`. A bad value is answered 400 with the reason, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from bot.admin import analytics_html, pages
from bot.admin.guards import HEADERS, Ctx, Guards, html
from bot.domain.analytics import Dashboard
from bot.domain.period import Period, PeriodError
from bot.services.analytics import CHANNEL, CHANNEL_NAMES, AnalyticsService, UnknownAgency
from bot.services.analytics_csv import to_csv
from bot.services.clustering import Features, char_features

if TYPE_CHECKING:
    from bot.bootstrap import App

DEFAULT_DAYS = 30
TITLE = "統計 Analytics"


class QueryError(ValueError):
    """A filter the dashboard cannot use (the message is safe to show)."""


@dataclass(frozen=True)
class Query:
    """The dashboard's filters, checked."""

    period: Period
    agency: str | None = None
    channel: str | None = None
    month: str = ""  # as typed, to show it again in the form

    def params(self) -> dict[str, str]:
        """The same filters as query parameters (the period as from/to)."""
        out = {"from": self.period.first.isoformat(), "to": self.period.last.isoformat()}
        out |= {k: v for k, v in (("agency", self.agency), ("channel", self.channel)) if v}
        return out


def parse_query(params: Mapping[str, str], agencies: Mapping[str, str], today: dt.date) -> Query:
    """Check the filters; raises PeriodError or QueryError with a message for the user."""
    month, first, last = (params.get(k, "").strip() for k in ("month", "from", "to"))
    agency, channel = params.get("agency", "").strip() or None, params.get("channel", "").strip() or None
    if month and (first or last):
        raise QueryError("請擇一：月份或起訖日期 / give either a month or from/to dates, not both")
    if month:
        period = Period.month(month)
    elif first or last:
        end = Period.between(last, last).first if last else today
        period = Period.between(first, end.isoformat()) if first else Period.ending(end, DEFAULT_DAYS)
    else:
        period = Period.ending(today, DEFAULT_DAYS)
    if agency is not None and agency not in agencies:
        raise QueryError(f"未知的機關代碼 / unknown agency code: {agency[:40]!r}")
    if channel is not None and not CHANNEL.fullmatch(channel):
        raise QueryError(f"管道名稱不正確 / not a channel name: {channel[:20]!r}")
    return Query(period, agency, channel, month)


def filter_form(agencies: Mapping[str, str], params: Mapping[str, str]) -> str:
    """The GET form choosing period, agency and channel (shows what was asked, escaped)."""

    def options(choices: Mapping[str, str], chosen: str) -> str:
        found = [("", "全部 All"), *choices.items()]
        return "".join(
            f'<option value="{pages.e(k)}"{" selected" if k == chosen else ""}>{pages.e(v)}</option>' for k, v in found
        )

    value = {k: pages.e(params.get(k, "")) for k in ("month", "from", "to")}
    return (
        '<form method="get" action="/admin/analytics" class="filters card">'
        f'<label>月份 Month <input type="month" name="month" value="{value["month"]}"></label> 或 or '
        f'<label>從 From <input type="date" name="from" value="{value["from"]}"></label>'
        f'<label>到 To <input type="date" name="to" value="{value["to"]}"></label> '
        f'<label>機關 Agency <select name="agency">{options(agencies, params.get("agency", ""))}</select></label>'
        f'<label>管道 Channel <select name="channel">{options(CHANNEL_NAMES, params.get("channel", ""))}'
        "</select></label>"
        '<button type="submit">顯示 Show</button></form>'
    )


def dashboard_page(d: Dashboard, query: Query, agencies: Mapping[str, str], *, ctx: Ctx) -> str:
    """The dashboard: filters, scope line, CSV link, then every section."""
    shown = query.params()
    if query.month:  # show the month as asked rather than its first and last days
        shown = {k: v for k, v in shown.items() if k not in ("from", "to")} | {"month": query.month}
    scope = f"{d.period.label} · {d.agency_name or '全部機關 all agencies'} · {d.channel or '全部管道 all channels'}"
    csv_link = f'<a href="/admin/analytics.csv?{pages.e(urlencode(query.params()))}" download>下載 CSV Download CSV</a>'
    body = (
        filter_form(agencies, shown)
        + f'<p class="scope"><strong>{pages.e(scope)}</strong> · {csv_link}</p>'
        + analytics_html.sections(d)
    )
    return pages.layout(TITLE, body, user=ctx.user, csrf=ctx.session.csrf)


def _filename(query: Query) -> str:
    parts = ["civicbot-analytics", query.period.slug, query.agency or "", query.channel or ""]
    return re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(p for p in parts if p)) + ".csv"


def add_routes(
    router: APIRouter,
    guards: Guards,
    app: App,
    *,
    features: Features | None = None,
    service: AnalyticsService | None = None,
    today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
) -> None:
    """Add GET /admin/analytics and /admin/analytics.csv (staff and up) to the console router."""
    if service is None:
        from bot.adapters.sql.analytics import sql_analytics

        assert app.engine is not None, "the console runs over the SQL store"
        service = sql_analytics(app.engine, features or char_features)
    analytics = service
    viewer = guards.viewer("staff")

    def checked(request: Request) -> tuple[Query, Dashboard, dict[str, str]]:
        agencies = analytics.agencies()
        query = parse_query(request.query_params, agencies, today())
        return query, analytics.dashboard(query.period, query.agency, query.channel), agencies

    def refused(request: Request, ctx: Ctx, exc: Exception) -> Response:
        agencies = analytics.agencies()
        body = filter_form(agencies, request.query_params) + pages.message(str(exc), error=True)
        return html(pages.layout(TITLE, body, user=ctx.user, csrf=ctx.session.csrf), 400)

    @router.get("/analytics")
    def dashboard(request: Request, ctx: Ctx = Depends(viewer)) -> Response:  # noqa: B008
        try:
            query, figures, agencies = checked(request)
        except (PeriodError, QueryError, UnknownAgency) as exc:
            return refused(request, ctx, exc)
        return html(dashboard_page(figures, query, agencies, ctx=ctx))

    @router.get("/analytics.csv")
    def export(request: Request, ctx: Ctx = Depends(viewer)) -> Response:  # noqa: B008
        try:
            query, figures, _ = checked(request)
        except (PeriodError, QueryError, UnknownAgency) as exc:
            return refused(request, ctx, exc)
        details: dict[str, object] = {**query.params()}
        guards.audit(ctx, request, "analytics_export", details)
        headers = HEADERS | {"Content-Disposition": f'attachment; filename="{_filename(query)}"'}
        # A byte-order mark, so spreadsheet programs read the Chinese labels as UTF-8.
        return Response("\ufeff" + to_csv(figures), media_type="text/csv; charset=utf-8", headers=headers)
