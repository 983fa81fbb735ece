"""The monthly report as one self-contained HTML document (inline CSS and SVG) that prints to A4 PDF."""

from __future__ import annotations

import datetime as dt

from bot.admin import analytics_html
from bot.admin.pages import e
from bot.domain.analytics import Dashboard

STYLE = """
@page{size:A4;margin:14mm 12mm}
body{font-family:"Noto Sans TC","Noto Sans CJK TC","Microsoft JhengHei",system-ui,sans-serif;color:#1b1b1b;
margin:1.5rem auto;max-width:60rem;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:.2rem 0 .5rem}
.meta{color:#444;margin:0 0 1rem}.meta dt{font-weight:600;display:inline}
.meta dd{display:inline;margin:0 1.2rem 0 .3rem}
section.card{border:1px solid #d5d9e0;border-radius:6px;padding:.7rem 1rem;margin:.8rem 0;break-inside:avoid}
table{border-collapse:collapse;width:100%;font-size:.9rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
td,th{border-bottom:1px solid #e3e6ea;padding:.2rem .45rem;text-align:left;vertical-align:top}
svg.chart{display:block;margin:.4rem 0}dl dt{font-weight:600;margin-top:.4rem}dl dd{margin:0 0 0 1rem}
.muted{color:#5a6270;font-size:.9em}code{font-size:.85em}
details>summary{cursor:pointer;color:#123c69}
@media print{body{margin:0;max-width:none;font-size:10pt}details>summary{display:none}
details{display:block}section.card{border:none;padding:.3rem 0}a{color:inherit;text-decoration:none}
tr{break-inside:avoid}}
"""


def document(d: Dashboard, generated: dt.datetime) -> str:
    """The report for one period (and agency): period, agency, every figure and chart, and the definitions."""
    agency = f"{d.agency_name}（{d.agency}）" if d.agency else "全部機關 All agencies"
    channel = d.channel or "全部管道 All channels"
    title = f"智慧客服服務品質報告 Chatbot service-quality report {d.period.label}"
    meta = (
        '<dl class="meta">'
        f"<dt>期間 Period</dt><dd>{e(d.period.first.isoformat())} – {e(d.period.last.isoformat())}（UTC）</dd>"
        f"<dt>機關 Agency</dt><dd>{e(agency)}</dd><dt>管道 Channel</dt><dd>{e(channel)}</dd>"
        f"<dt>產製時間 Generated</dt><dd>{e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</dd></dl>"
    )
    # <details> stays open so the tables print, and the report reads the same without a browser.
    body = analytics_html.sections(d).replace("<details>", "<details open>")
    return (
        '<!doctype html><html lang="zh-TW"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>智慧客服服務品質報告<br>Chatbot service-quality report</h1>{meta}</header>"
        f"<main>{body}</main>"
        "<footer class='muted'><p>civicbot · 本報告可附於服務品質成果報告 · for the agency's service-quality "
        "results report</p></footer></body></html>"
    )
