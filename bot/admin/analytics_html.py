"""The analytics figures as HTML sections, charts with their numbers in tables; shared by console and report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.admin import charts
from bot.admin.pages import e
from bot.domain.analytics import Counts, Dashboard, Split

DEFINITIONS = (
    (
        "提問 Questions",
        "以知識庫結果結束的訊息：已回答＋無法回答。問候、選單、案件查詢、轉真人、評價與澄清（「您是不是想問」、選擇機關）"
        "不計入；澄清後民眾點選的答案才計入一次。 Messages that ended in a knowledge-base outcome: answered + "
        "fallback. Greetings, menus, case lookups, hand-offs, ratings and clarifications are not counted; the "
        "answer picked after a clarification is counted once.",
    ),
    ("回答率 Answered rate", "以 FAQ 條目回答的提問 ÷ 提問。 Questions answered from an FAQ entry ÷ questions."),
    (
        "無法回答率 Fallback rate",
        "找不到可靠答案的提問 ÷ 提問（與回答率合計 100%）。 Questions without a reliable answer ÷ questions "
        "(answered + fallback rates add up to 100 %).",
    ),
    (
        "有幫助率 Helpful rate",
        "「有幫助」評價 ÷ 全部評價，依評價日期計。 Helpful ratings ÷ all ratings, by the day the rating was given.",
    ),
    (
        "前期 Previous period",
        "月報比較上一個月；其他期間比較前面同樣天數。 A month is compared with the month before; other periods "
        "with the same number of days just before.",
    ),
    ("日期 Days", "以 UTC 日計（臺灣時間 08:00 至次日 08:00）。 UTC days (08:00 to 08:00 Taiwan time)."),
)


def num(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def pct(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or a dash when undefined."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def change(now: float | None, before: float | None) -> str:
    """The change of a rate in percentage points (pp)."""
    if now is None or before is None:
        return "—"
    points = (now - before) * 100
    return f"{'+' if points >= 0 else '−'}{abs(points):.1f} pp"


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table whose cells are already escaped HTML."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{e(css)}"><caption>{e(caption)}</caption><tr>{head}</tr>{body}</table>'


def definitions() -> str:
    """What each figure means."""
    items = "".join(f"<dt>{e(term)}</dt><dd>{e(text)}</dd>" for term, text in DEFINITIONS)
    return f'<section class="card" id="definitions"><h2>指標定義 Definitions</h2><dl>{items}</dl></section>'


def summary(d: Dashboard) -> str:
    """The period's key figures beside the previous period's."""
    t, p = d.totals, d.previous
    rates = {
        "answered_rate": change(t.answered_rate, p.answered_rate),
        "fallback_rate": change(t.fallback_rate, p.fallback_rate),
        "helpful_rate": change(t.helpful_rate, p.helpful_rate),
    }
    figures = (
        ("questions", "提問數 Questions", num(t.questions), num(p.questions), f"{t.questions - p.questions:+,}"),
        ("answered", "已回答 Answered", num(t.answered), num(p.answered), ""),
        ("answered_rate", "回答率 Answered rate", pct(t.answered_rate), pct(p.answered_rate), rates["answered_rate"]),
        ("fallback", "無法回答 Fallback", num(t.fallback), num(p.fallback), ""),
        (
            "fallback_rate",
            "無法回答率 Fallback rate",
            pct(t.fallback_rate),
            pct(p.fallback_rate),
            rates["fallback_rate"],
        ),
        ("helpful_rate", "有幫助率 Helpful rate", pct(t.helpful_rate), pct(p.helpful_rate), rates["helpful_rate"]),
        ("rated", "評價數 Ratings", num(t.rated), num(p.rated), ""),
        ("clarify", "澄清 Clarifications", num(t.clarify), num(p.clarify), ""),
        ("turns", "全部訊息 All messages", num(t.turns), num(p.turns), ""),
        (
            "unanswered",
            "未回答紀錄 Logged unanswered",
            f"{num(d.unanswered)}（待處理 open {num(d.unanswered_open)}）",
            "",
            "",
        ),
    )
    rows = [
        [e(label), f'<strong data-figure="{key}">{e(now)}</strong>', e(before), e(delta)]
        for key, label, now, before, delta in figures
    ]
    headers = ("指標 Figure", f"本期 {d.period.label}", f"前期 Previous {d.previous_period.label}", "變化 Change")
    return f'<section class="card" id="summary"><h2>摘要 Summary</h2>{table("摘要 Summary", headers, rows)}</section>'


def _day_rows(days: Iterable[tuple[str, Counts]]) -> list[list[str]]:
    return [
        [e(label), num(c.questions), num(c.answered), num(c.fallback), e(pct(c.answered_rate)), num(c.rated)]
        + [e(pct(c.helpful_rate))]
        for label, c in days
    ]


def daily(d: Dashboard) -> str:
    """Questions per day, answered and fallback stacked, with the numbers."""
    labels = [f"{day:%m-%d}" for day, _ in d.days]
    chart = charts.stacked_bars(
        "chart-daily",
        "每日提問數 Questions per day",
        f"{d.period.label}: 每日已回答與無法回答的提問 answered and fallback questions per day; "
        f"total {d.totals.questions}",
        labels,
        [
            charts.Series("已回答 Answered", [c.answered for _, c in d.days]),
            charts.Series("無法回答 Fallback", [c.fallback for _, c in d.days]),
        ],
    )
    headers = (
        "日期 Day",
        "提問 Questions",
        "已回答 Answered",
        "無法回答 Fallback",
        "回答率",
        "評價 Ratings",
        "有幫助率",
    )
    data = table("每日數據 Daily figures", headers, _day_rows((day.isoformat(), c) for day, c in d.days), "daily")
    return (
        f'<section class="card" id="daily"><h2>每日提問數 Questions per day</h2>{chart}'
        f"<details><summary>數據表 Data table</summary>{data}</details></section>"
    )


def trend(d: Dashboard) -> str:
    """The helpful rate per day (or week) as a line, with the numbers and the change against the previous period."""
    unit = "每週 per week" if d.period.weekly else "每日 per day"
    labels = [f"{p.first:%m-%d}" for p in d.trend]
    chart = charts.line_chart(
        "chart-trend",
        f"有幫助率趨勢 Helpful-rate trend ({unit})",
        f"{d.period.label}: 有幫助率 {pct(d.totals.helpful_rate)}，前期 previous {pct(d.previous.helpful_rate)}",
        labels,
        [p.helpful_rate for p in d.trend],
    )
    rows = [
        [e(p.first.isoformat() if p.first == p.last else f"{p.first} – {p.last}"), num(p.helpful), num(p.rated)]
        + [e(pct(p.helpful_rate))]
        for p in d.trend
    ]
    data = table("有幫助率 Helpful rate", ("期間 When", "有幫助 Helpful", "評價 Ratings", "有幫助率"), rows, "trend")
    delta = change(d.totals.helpful_rate, d.previous.helpful_rate)
    return (
        f'<section class="card" id="trend"><h2>有幫助率趨勢 Helpful-rate trend</h2>'
        f"<p>本期 this period <strong>{e(pct(d.totals.helpful_rate))}</strong>，前期 previous "
        f"{e(pct(d.previous.helpful_rate))}（{e(delta)}）</p>{chart}"
        f"<details><summary>數據表 Data table</summary>{data}</details></section>"
    )


def split(section_id: str, heading: str, rows: Sequence[Split]) -> str:
    """Questions per channel or agency as bars, with every figure in a table."""
    chart = charts.hbars(
        f"chart-{section_id}",
        f"{heading}: 提問數 questions",
        "; ".join(f"{s.label} {s.counts.questions}" for s in rows) or "no data",
        [(s.label, float(s.counts.questions)) for s in rows],
    )
    body = [
        [e(s.label), num(s.counts.questions), e(pct(s.counts.answered_rate)), e(pct(s.counts.fallback_rate))]
        + [num(s.counts.rated), e(pct(s.counts.helpful_rate)), num(s.counts.turns)]
        for s in rows
    ]
    headers = (
        "",
        "提問 Questions",
        "回答率 Answered",
        "無法回答率 Fallback",
        "評價 Ratings",
        "有幫助率 Helpful",
        "訊息 Turns",
    )
    data = table(heading, headers, body, section_id)
    return f'<section class="card" id="{e(section_id)}"><h2>{e(heading)}</h2>{chart}{data}</section>'


def entries(d: Dashboard) -> str:
    """The most answered FAQ entries with their ratings."""
    rows = [
        [f"<code>{e(x.faq_id)}</code>", e(x.question), num(x.answered), num(x.helpful), num(x.rated - x.helpful)]
        + [e(pct(x.helpful_rate))]
        for x in d.entries
    ]
    headers = ("條目 Entry", "問題 Question", "回答次數 Answered", "有幫助", "沒幫助 Not helpful", "有幫助率")
    body = table("最常回答的條目 Top entries", headers, rows, "entries") if rows else "<p>（無資料 no data）</p>"
    return f'<section class="card" id="entries"><h2>最常回答的條目 Top entries</h2>{body}</section>'


def gaps(d: Dashboard) -> str:
    """The biggest clusters of unanswered questions logged in the period."""
    rows = [
        [e(c.representative), num(c.count), num(c.open)]
        + [e("、".join(f"{k} ×{n}" for k, n in c.channels.items())), e("、".join(c.agencies) or "—")]
        for c in d.clusters
    ]
    headers = ("問題 Question", "次數 Count", "待處理 Open", "管道 Channels", "機關 Agencies")
    body = (
        table("最常見的未回答問題 Top unanswered", headers, rows, "clusters") if rows else "<p>（無資料 no data）</p>"
    )
    note = ""
    if d.clustered < d.unanswered:
        note = f"<p class='muted'>依最近 {num(d.clustered)} 筆分群 clustered from the latest {num(d.clustered)}.</p>"
    return f'<section class="card" id="gaps"><h2>最常見的未回答問題 Top unanswered clusters</h2>{body}{note}</section>'


def sections(d: Dashboard) -> str:
    """Every section, in report order."""
    return (
        summary(d)
        + daily(d)
        + trend(d)
        + split("channels", "管道 By channel", d.channels)
        + split("agencies", "機關 By agency", d.agencies)
        + entries(d)
        + gaps(d)
        + definitions()
    )
