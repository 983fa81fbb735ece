"""Fit the matcher's calibration and write bot/core/resources/calibration.json.

1. Held-out folds of the knowledge base itself: each fold removes a fifth of every entry's variants
   (and of the out-of-scope examples), rebuilds the index, and asks the removed texts.
2. Ranking weights: the grid point with the best top-1 on those held-out questions.
3. Confidence: logistic regression of "the top in-scope candidate is right", on those held-out
   questions plus the dev set (out-of-scope questions are negatives); a 5-fold cross-validation over
   the dev set, printed and saved, shows how well it generalises to questions it has not seen.
4. Fallback threshold: chosen on the labelled dev set (tests/data/dev) — the highest threshold whose
   in-scope false-fallback rate stays within budget, which maximises out-of-scope recall.

Usage: python scripts/calibrate.py [--folds 5] [--fallback-budget 0.049]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import zlib
from pathlib import Path

import numpy as np

from bot.bootstrap import build_matcher
from bot.core.matcher import FEATURES, Calibration, Matcher
from bot.domain.model import KnowledgeBase
from bot.services.evaluation import read_jsonl
from bot.services.kb_files import load_kb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bot" / "core" / "resources" / "calibration.json"


def _fold_of(key: str, folds: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % folds


def make_folds(kb: KnowledgeBase, folds: int) -> list[tuple[KnowledgeBase, list[tuple[str, str | None]]]]:
    """(training knowledge base, held-out (question, expected id or None)) per fold."""
    out = []
    for f in range(folds):
        held: list[tuple[str, str | None]] = []
        entries = []
        for e in kb.published():
            keep = [v for v in e.variants if _fold_of(e.id + v, folds) != f]
            held.extend((v, e.id) for v in e.variants if _fold_of(e.id + v, folds) == f)
            entries.append(dataclasses.replace(e, variants=tuple(keep)))
        cats = []
        for c in kb.out_of_scope:
            keep = [x for x in c.examples if _fold_of(c.category + x, folds) != f]
            held.extend((x, None) for x in c.examples if _fold_of(c.category + x, folds) == f)
            cats.append(dataclasses.replace(c, examples=tuple(keep)))
        out.append((dataclasses.replace(kb, entries=tuple(entries), out_of_scope=tuple(cats)), held))
    return out


def top_in_scope(matcher: Matcher, question: str, agency: str | None = None):  # type: ignore[no-untyped-def]
    """The best in-scope candidate and whether an out-of-scope category ranked first."""
    result = matcher.match(question, agency=agency, k=8)
    best = next((c for c in result.candidates if not c.out_of_scope), None)
    oos_first = bool(result.candidates) and result.candidates[0].out_of_scope
    return best, oos_first


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method for L2-regularised logistic regression."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def main() -> None:
    """Fit and write the calibration."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fallback-budget", type=float, default=0.049)
    args = ap.parse_args()

    kb = load_kb(ROOT / "faq").kb
    folds = [(build_matcher(train, Calibration()), held) for train, held in make_folds(kb, args.folds)]

    grid = [w for w in itertools.product((0.4, 0.5, 0.6), (0.1, 0.2), (0.0, 0.1), (0.2, 0.3, 0.4))]
    best_w, best_acc = None, -1.0
    for raw in grid:
        weights = tuple(v / sum(raw) for v in raw)
        hits = total = 0
        for matcher, held in folds:
            matcher.calibration = Calibration(weights=weights)  # type: ignore[arg-type]
            for q, expected in held:
                if expected is None:
                    continue
                best, _ = top_in_scope(matcher, q)
                hits += best is not None and best.target == expected
                total += 1
        if hits / total > best_acc:
            best_acc, best_w = hits / total, weights
    assert best_w is not None
    print(f"ranking weights {tuple(round(w, 3) for w in best_w)}: held-out top-1 {best_acc:.3f}")

    xs, ys = [], []
    for matcher, held in folds:
        matcher.calibration = Calibration(weights=best_w)  # type: ignore[arg-type]
        for q, expected in held:
            best, _ = top_in_scope(matcher, q)
            if best is None:
                continue
            xs.append(best.features)
            ys.append(1.0 if expected is not None and best.target == expected else 0.0)

    full = build_matcher(kb, Calibration(weights=best_w))  # type: ignore[arg-type]
    dev = []  # (expected id, got id, oos ranked first, features)
    for path in sorted((ROOT / "tests" / "data" / "dev").glob("*.jsonl")):
        for _n, obj, _err in read_jsonl(path.read_text(encoding="utf-8").splitlines()):
            if obj is not None:
                best, oos_first = top_in_scope(full, obj["q"], obj.get("agency"))
                got, feats = (best.target, best.features) if best else (None, None)
                dev.append((obj.get("faq_id"), got, oos_first, feats))

    def fit(dev_part: list) -> tuple[Calibration, float]:  # type: ignore[type-arg]
        dx = [d[3] for d in dev_part if d[3] is not None]
        dy = [1.0 if d[0] is not None and d[0] == d[1] else 0.0 for d in dev_part if d[3] is not None]
        coef, intercept = fit_logistic(np.array(xs + dx), np.array(ys + dy))
        cal = Calibration(weights=best_w, coefficients=tuple(float(c) for c in coef), intercept=intercept)  # type: ignore[arg-type]
        confs = [(d[0], conf_of(cal, d)) for d in dev_part]
        in_scope = [c for e, c in confs if e is not None]
        threshold = 0.0
        for t in np.arange(0.01, 0.99, 0.005):
            if sum(c < t for c in in_scope) / len(in_scope) <= args.fallback_budget:
                threshold = float(t)
        return dataclasses.replace(cal, threshold=threshold), threshold

    def conf_of(cal: Calibration, d: tuple) -> float:  # type: ignore[type-arg]
        return -1.0 if d[3] is None or d[2] else cal.confidence(d[3])

    def figures(cal: Calibration, part: list) -> dict[str, float]:  # type: ignore[type-arg]
        ins = [d for d in part if d[0] is not None]
        oos = [d for d in part if d[0] is None]
        answered = lambda d: conf_of(cal, d) >= cal.threshold  # noqa: E731
        return {
            "top1": sum(answered(d) and d[0] == d[1] for d in ins) / max(len(ins), 1),
            "false_fallback": sum(not answered(d) for d in ins) / max(len(ins), 1),
            "oos_recall": sum(not answered(d) for d in oos) / max(len(oos), 1),
        }

    # Honest estimate: 5-fold cross-validation over the dev set (model and threshold never see the fold).
    totals = {"top1": 0.0, "false_fallback": 0.0, "oos_recall": 0.0}
    k = 5
    for f in range(k):
        train = [d for i, d in enumerate(dev) if i % k != f]
        test = [d for i, d in enumerate(dev) if i % k == f]
        cal_f, _ = fit(train)
        for key, value in figures(cal_f, test).items():
            totals[key] += value / k
    print("dev 5-fold cross-validated:", {key: round(v, 3) for key, v in totals.items()})

    calibration, threshold = fit(dev)
    coef, intercept = np.array(calibration.coefficients), calibration.intercept
    print("confidence model:", dict(zip(FEATURES, coef.round(3), strict=True)), "intercept", round(intercept, 3))
    fig = figures(calibration, dev)
    print(f"threshold {threshold:.3f}: dev (in-sample) { ({key: round(v, 3) for key, v in fig.items()}) }")
    OUT.write_text(
        json.dumps(
            {
                "weights": [round(w, 4) for w in best_w],
                "coefficients": [round(float(c), 4) for c in coef],
                "features": list(FEATURES),
                "intercept": round(intercept, 4),
                "threshold": round(threshold, 4),
                "low_band": 0.1,
                "fitted_on": {"held_out_kb_questions": len(xs), "dev_questions": len(dev)},
                "dev_cross_validated": {key: round(v, 4) for key, v in totals.items()},
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
