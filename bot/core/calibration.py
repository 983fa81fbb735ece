"""Load the matcher calibration fitted by `scripts/calibrate` (bundled JSON)."""

from __future__ import annotations

import json
from importlib import resources

from bot.core.matcher import FEATURES, Calibration


class CalibrationError(RuntimeError):
    """The bundled calibration does not fit this matcher (refit with scripts/calibrate.py)."""


def load_calibration() -> Calibration:
    """The bundled calibration, or neutral defaults when none has been fitted."""
    path = resources.files("bot.core.resources").joinpath("calibration.json")
    if not path.is_file():
        return Calibration()
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data.get("features", ())) != FEATURES or len(data["coefficients"]) != len(FEATURES):
        raise CalibrationError(
            f"calibration.json was fitted for features {data.get('features')}, the matcher uses {list(FEATURES)}:"
            " run scripts/calibrate.py"
        )
    return Calibration(
        weights=tuple(float(w) for w in data["weights"]),  # type: ignore[arg-type]
        coefficients=tuple(float(c) for c in data["coefficients"]),
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        low_band=float(data.get("low_band", 0.15)),
    )
