"""The Rasa 3.6 path end to end, driven by scripts/rasa-e2e: dev-set test data, real conversations, engine comparison.

    rasa_e2e.py nlu-testdata OUT.yml           the dev set as a Rasa NLU test file (for `rasa test nlu`)
    rasa_e2e.py nlu-summary RESULTS_DIR        intent and response-selection accuracy from `rasa test nlu`
    rasa_e2e.py converse URL DATA_DIR          real messages through the REST channel; asserts the replies
    rasa_e2e.py compare URL --train-s … …      the dev set through both engines; prints and saves the table
    rasa_e2e.py native-probe                   (internal) native load time, latency and peak RSS, as JSON

Runs in civicbot's environment (Python ≥ 3.11). Talks to Rasa over loopback HTTP only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `actions` lives at the repository root

from actions.faq import decide, engine_choice  # noqa: E402
from bot.adapters.rasa_export import OUT_OF_SCOPE_INTENT, intent_name  # noqa: E402
from bot.bootstrap import App, bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services import evaluation  # noqa: E402
from bot.services.answering import FALLBACK_EN, FALLBACK_ZH  # noqa: E402
from bot.services.nlu_answers import answer_choice  # noqa: E402

DEV_DIR = ROOT / "tests" / "data" / "dev"
RESULTS = ROOT / "bench-results"
SWEEP = [round(0.01 * i, 2) for i in range(0, 10)] + [round(0.05 * i, 2) for i in range(2, 20)]


def dev_lines() -> list[dict[str, Any]]:
    """Every labelled dev-set line, in file order."""
    lines: list[dict[str, Any]] = []
    for path in sorted(DEV_DIR.glob("*.jsonl")):
        lines.extend(json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip())
    return lines


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of a process, in MB (NaN when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    return next(
        (int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), float("nan")
    )


def tree_peak_rss_mb(pid: int) -> float:
    """The largest peak RSS in a process and its descendants (Sanic 25 serves from a worker process)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    peaks = [peak_rss_mb(p) for p in tree]
    return max((x for x in peaks if x == x), default=float("nan"))  # x == x drops NaN (process gone)


# --- rasa test nlu --------------------------------------------------------------------------------


def cmd_nlu_testdata(args: argparse.Namespace) -> int:
    """Write the dev set as Rasa NLU test data: `faq/<id>` and `out_of_scope` intents."""
    by_intent: dict[str, list[str]] = {}
    for line in dev_lines():
        intent = intent_name(line["faq_id"]) if line.get("faq_id") else OUT_OF_SCOPE_INTENT
        text = " ".join(str(line["q"]).split()).replace("[", "［").replace("]", "］")  # no entity markup
        by_intent.setdefault(intent, []).append(text)
    nlu = [{"intent": k, "examples": "".join(f"- {t}\n" for t in v)} for k, v in by_intent.items()]
    Path(args.out).write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True), encoding="utf-8")
    print(f"wrote {args.out}: {sum(map(len, by_intent.values()))} dev questions, {len(by_intent)} intents")
    return 0


def cmd_nlu_summary(args: argparse.Namespace) -> int:
    """Print the headline figures of `rasa test nlu`."""
    out = Path(args.results)
    intent = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    print(f"rasa test nlu: intent accuracy {intent['accuracy'] * 100:.1f} % (faq vs out_of_scope vs the rest)")
    selection = out / "response_selection_report.json"
    if selection.exists():
        report = json.loads(selection.read_text(encoding="utf-8"))
        print(f"rasa test nlu: response selection accuracy {report['accuracy'] * 100:.1f} % (faq/<id> exact)")
    return 0


# --- real conversations ---------------------------------------------------------------------------


class Conversation:
    """One citizen talking to Rasa's REST channel."""

    def __init__(self, client: httpx.Client, url: str, sender: str) -> None:
        self.client, self.url, self.sender = client, url, sender

    def say(self, text: str, **metadata: str) -> list[dict[str, Any]]:
        """Send one message; return the bot's messages."""
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = self.client.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()
        return messages


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or "") for m in messages)


def expect(ok: bool, what: str, messages: list[dict[str, Any]]) -> None:
    """Print a check's outcome; raise with the bot's actual reply when it failed."""
    if not ok:
        raise AssertionError(f"{what}: got {json.dumps(messages, ensure_ascii=False)[:600]}")
    print(f"  ok  {what}")


def cmd_converse(args: argparse.Namespace) -> int:
    """Real messages over the REST channel: Chinese and English FAQs, an off-topic question, a case lookup."""
    app = _app(Path(args.data_dir))
    kb = app.kb
    credit = kb.entry("pay-credit-card")
    assert credit is not None
    hsinchu = credit.block_for("aea-hsinchu")
    assert hsinchu is not None
    with httpx.Client() as client:
        print("conversations over the REST channel:")
        zh = Conversation(client, args.url, "e2e-zh").say("請問新竹分署可以用信用卡繳納欠款嗎？")
        expect(hsinchu.zh in text_of(zh) and "資料來源：" in text_of(zh), "Chinese FAQ answered with its source", zh)
        expect(any(b.get("payload") == "/feedback_helpful" for b in zh[0].get("buttons", [])), "feedback offered", zh)

        en = Conversation(client, args.url, "e2e-en").say("Can I pay by credit card?")
        answers_en = [b.en for b in credit.answers if b.en]
        expect(any(a in text_of(en) for a in answers_en) and "Source" in text_of(en), "English FAQ in English", en)

        off = Conversation(client, args.url, "e2e-off").say("明天台北會下雨嗎？我的電話是0912345678")
        expect(text_of(off).startswith(FALLBACK_ZH[:20]), "off-topic question falls back", off)
        off_en = Conversation(client, args.url, "e2e-off-en").say("Who will win the baseball game tonight?")
        expect(text_of(off_en).startswith(FALLBACK_EN[:20]), "English off-topic question falls back", off_en)

        case = Conversation(client, args.url, "e2e-case")
        step = case.say("您好")
        payloads = [b.get("payload", "") for m in step for b in m.get("buttons", [])]
        expect("/case_lookup" in payloads, "the greeting offers the case lookup", step)
        step = case.say("/case_lookup")  # the citizen presses that button
        payloads = [b.get("payload", "") for m in step for b in m.get("buttons", [])]
        expect(any("aea-taichung" in p for p in payloads), "case lookup asks for the agency", step)
        step = case.say('/choose_agency{"agency": "aea-taichung"}')
        expect("案號" in text_of(step), "then for the case number", step)
        step = case.say("113營稅執12345")
        expect("末四碼" in text_of(step) or "查詢碼" in text_of(step), "then for the verification factor", step)
        step = case.say("1234")
        expect(
            "113年度營稅執字第00012345號" in text_of(step) and "辦理情形" in text_of(step), "verified case shown", step
        )
        step = case.say("請問新竹分署可以用信用卡繳納欠款嗎？")
        expect(hsinchu.zh in text_of(step), "after the lookup, questions are answered again", step)

    with app.uow_factory() as uow:
        logged = uow.unanswered.list(limit=50)
    masked = [q.masked_text for q in logged if q.channel == "rasa"]
    ok = any("[phone]" in m and "0912345678" not in m for m in masked)
    expect(ok, "off-topic question in the unanswered log, masked", [{"text": "\n".join(masked)}])
    print("all conversations passed")
    return 0


def _app(data_dir: Path) -> App:
    """The application on the given embedded data folder (the action server's, to read its logs)."""
    return bootstrap(Settings(data_dir=data_dir))


# --- engine comparison ----------------------------------------------------------------------------


def cmd_native_probe(args: argparse.Namespace) -> int:
    """In a fresh process: time to a ready engine, per-question latency over the dev set, peak RSS."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        app = bootstrap(Settings(data_dir=Path(tmp)))
        load_s = time.perf_counter() - started
        latencies = []
        for line in dev_lines():
            t0 = time.perf_counter()
            app.answers.answer(line["q"], agency=line.get("agency"))
            latencies.append((time.perf_counter() - t0) * 1000)
        from bot.bootstrap import build_matcher

        t0 = time.perf_counter()
        build_matcher(app.kb)
        build_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "load_s": load_s,
                "train_s": build_s,
                "p50_ms": statistics.median(latencies),
                "p99_ms": percentile(latencies, 99),
                "rss_mb": peak_rss_mb(os.getpid()),
            }
        )
    )
    return 0


def _score(lines: list[dict[str, Any]], results: list[dict[str, Any]]) -> evaluation.EvalReport:
    report = evaluation.EvalReport()
    for line, result in zip(lines, results, strict=True):
        evaluation.score(report, line, result)
    return report


def cmd_compare(args: argparse.Namespace) -> int:
    """Both engines on the dev set; Rasa through its real server (/model/parse) and civicbot's actions logic."""
    lines = dev_lines()
    with tempfile.TemporaryDirectory() as tmp:
        app = bootstrap(Settings(data_dir=Path(tmp)))
        native = _score(lines, [evaluation.answer_line(app.answers, line) for line in lines])

        parses, latencies = [], []
        with httpx.Client() as client:
            client.post(f"{args.url}/model/parse", json={"text": "暖身"}, timeout=60).raise_for_status()
            for line in lines:
                t0 = time.perf_counter()
                response = client.post(f"{args.url}/model/parse", json={"text": line["q"]}, timeout=60)
                latencies.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
                parses.append(response.json())
        routed = sum(
            1 for p in parses if (p.get("intent") or {}).get("name") not in ("faq", "out_of_scope", "nlu_fallback")
        )
        rasa_results = [
            decide(app, p, agency=line.get("agency"))[0].to_dict() for p, line in zip(parses, lines, strict=True)
        ]
        rasa = _score(lines, rasa_results)
        sweep = _sweep(app, lines, parses)
    probe = json.loads(
        subprocess.run([sys.executable, __file__, "native-probe"], check=True, capture_output=True, text=True).stdout
    )
    figures = {
        "threshold": Settings().rasa_min_confidence,
        "native": {**native.rates(), **probe},
        "rasa": {
            **rasa.rates(),
            "train_s": args.train_s,
            "load_s": args.load_s,
            "p50_ms": statistics.median(latencies),
            "p99_ms": percentile(latencies, 99),
            "rss_mb": tree_peak_rss_mb(args.rasa_pid),
            "actions_rss_mb": tree_peak_rss_mb(args.actions_pid),
            "routed_elsewhere": routed,
        },
        "sweep": sweep,
        "in_scope": native.in_scope,
        "out_of_scope": native.out_of_scope,
    }
    _print_table(figures)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "rasa-compare.json"
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"saved {out.relative_to(ROOT)}")
    return 0


def _sweep(app: App, lines: list[dict[str, Any]], parses: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Rasa's figures at each response-selector threshold (how the configured threshold was chosen)."""
    rows = []
    for threshold in SWEEP:
        results = []
        for parse, line in zip(parses, lines, strict=True):
            result, _ = answer_choice(
                app.answers, line["q"], engine_choice(parse), threshold=threshold, agency=line.get("agency")
            )
            results.append(result.to_dict())
        report = _score(lines, results)
        right = report.top1_hits + report.oos_fallbacks
        wrong = len(lines) - right - report.false_fallbacks  # answered, but not with the right entry
        # A wrong answer misleads a citizen; "I don't know" only fails to help: it costs as much as a hit gains.
        rows.append({"threshold": threshold, **report.rates(), "utility": (right - wrong) / len(lines)})
    return rows


def _print_table(f: dict[str, Any]) -> None:
    n, r = f["native"], f["rasa"]

    def pct(x: float) -> str:
        return f"{x * 100:.1f} %"

    rows = [
        ("top-1 FAQ accuracy", pct(n["top1"]), pct(r["top1"])),
        ("topic accuracy", pct(n["topic_accuracy"]), pct(r["topic_accuracy"])),
        ("out-of-scope recall", pct(n["oos_recall"]), pct(r["oos_recall"])),
        ("in-scope false-fallback rate", pct(n["false_fallback"]), pct(r["false_fallback"])),
        ("training time", f"{n['train_s']:.1f} s (index build)",
         f"{r['train_s']:.0f} s (`rasa train`)" if r["train_s"] >= 0 else "(model reused)"),
        ("model load time (process start to ready)", f"{n['load_s']:.1f} s", f"{r['load_s']:.0f} s"),
        ("parse latency p50 / p99", f"{n['p50_ms']:.1f} / {n['p99_ms']:.1f} ms (in process)",
         f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms (HTTP /model/parse)"),
        ("server peak RSS", f"{n['rss_mb']:.0f} MB", f"{r['rss_mb']:.0f} MB + actions {r['actions_rss_mb']:.0f} MB"),
    ]  # fmt: skip
    print(f"\ndev set: {f['in_scope']} in-scope, {f['out_of_scope']} out-of-scope questions;"
          f" Rasa threshold {f['threshold']} (response selector confidence)")  # fmt: skip
    print("| figure | native | Rasa 3.6 |\n| --- | --- | --- |")
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
    print(f"(Rasa routed {r['routed_elsewhere']} dev questions to conversation intents; they count as fallbacks)")
    best = max(f["sweep"], key=lambda s: (s["utility"], -s["threshold"]))
    print("threshold sweep: top-1 / oos recall / false fallback / utility (right - wrong answers, per question):")
    for s in f["sweep"]:
        mark = "  <- best" if s is best else ""
        print(
            f"  {s['threshold']:.2f}  {pct(s['top1'])} / {pct(s['oos_recall'])} / {pct(s['false_fallback'])}"
            f" / {s['utility']:+.3f}{mark}"
        )


def main(argv: list[str] | None = None) -> int:
    """Dispatch the subcommands."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    x = sub.add_parser("nlu-testdata")
    x.add_argument("out")
    x.set_defaults(func=cmd_nlu_testdata)
    x = sub.add_parser("nlu-summary")
    x.add_argument("results")
    x.set_defaults(func=cmd_nlu_summary)
    x = sub.add_parser("converse")
    x.add_argument("url")
    x.add_argument("data_dir", help="the action server's CIVICBOT_DATA_DIR (its unanswered log is checked)")
    x.set_defaults(func=cmd_converse)
    x = sub.add_parser("compare")
    x.add_argument("url")
    x.add_argument("--train-s", type=float, required=True)
    x.add_argument("--load-s", type=float, required=True)
    x.add_argument("--rasa-pid", type=int, required=True)
    x.add_argument("--actions-pid", type=int, required=True)
    x.set_defaults(func=cmd_compare)
    sub.add_parser("native-probe").set_defaults(func=cmd_native_probe)
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)
