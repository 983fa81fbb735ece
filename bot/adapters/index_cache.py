"""On-disk cache of built indexes (numpy .npz + JSON, no pickle), keyed by the knowledge-base fingerprint."""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from bot.core.index import INDEX_FORMAT, Index, index_from_parts, index_to_parts

log = logging.getLogger(__name__)
KEEP = 3  # most recent cache files kept


class IndexCache:
    """Stores one index per fingerprint in a folder; a corrupt or stale file is ignored and replaced."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"index-{key}.npz", self.folder / f"index-{key}.json"

    def load(self, key: str) -> Index | None:
        """The cached index for `key`, or None."""
        arrays_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != INDEX_FORMAT:
                return None
            with np.load(arrays_path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            return index_from_parts(arrays, meta)
        except (OSError, ValueError, KeyError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("ignoring unreadable index cache %s: %s", arrays_path.name, exc)
            return None

    def save(self, key: str, index: Index) -> None:
        """Write atomically (temp file + rename), then prune old files; failures only log."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            arrays, meta = index_to_parts(index)
            arrays_path, meta_path = self._paths(key)
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".npz", delete=False) as tmp:
                np.savez(tmp, **arrays)  # type: ignore[arg-type]
            os.replace(tmp.name, arrays_path)
            with tempfile.NamedTemporaryFile("w", dir=self.folder, suffix=".json", delete=False, encoding="utf-8") as t:
                json.dump(meta, t, ensure_ascii=False)
            os.replace(t.name, meta_path)
            self._prune()
        except OSError as exc:
            log.warning("could not write index cache: %s", exc)

    def _prune(self) -> None:
        files = sorted(self.folder.glob("index-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".npz").unlink(missing_ok=True)


def pack_index(index: Index) -> tuple[dict[str, object], bytes]:
    """An index as JSON-able metadata and one numpy archive (for storing in the database)."""
    arrays, meta = index_to_parts(index)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return meta, buffer.getvalue()


def unpack_index(meta: dict[str, object], data: bytes) -> Index | None:
    """The index from pack_index() output, or None when it is of another format or unreadable."""
    if meta.get("format") != INDEX_FORMAT:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        return index_from_parts(arrays, meta)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable stored index: %s", exc)
        return None
