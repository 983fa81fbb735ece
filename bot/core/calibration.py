"""Load the matcher calibration fitted by `scripts/calibrate` (bundled JSON)."""

from __future__ import annotations

import json
from importlib import resources

from bot.core.matcher import FEATURES, RANK_FEATURES, Calibration


class CalibrationError(RuntimeError):
    """The bundled calibration does not fit this matcher (refit with scripts/calibrate.py)."""


def load_calibration() -> Calibration:
    """The bundled calibration, or neutral defaults when none has been fitted."""
    path = resources.files("bot.core.resources").joinpath("calibration.json")
    if not path.is_file():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    fitted = (tuple(data.get("rank_features", ())), tuple(data.get("features", ())))
    if fitted != (RANK_FEATURES, FEATURES) or len(data["coefficients"]) != len(FEATURES):
        raise CalibrationError(
            f"calibration.json was fitted for features {fitted}, the matcher uses"
            f" {(list(RANK_FEATURES), list(FEATURES))}: run scripts/calibrate.py"
        )
    return Calibration(
        weights=tuple(float(w) for w in data["weights"]),
        coefficients=tuple(float(c) for c in data["coefficients"]),
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        low_band=float(data.get("low_band", 0.15)),
    )
