"""Built search indexes in the database, keyed by content fingerprint: a process on another host loads, not builds."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from bot.adapters.sql.orm import IndexBlobRow

KEEP = 3  # most recent indexes kept: the live one and a couple being swapped in or out

_BLOBS = cast(Table, IndexBlobRow.__table__)


class SqlIndexRepository:
    """Index blobs (numpy archive bytes + JSON metadata); written in the transaction of the content change."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: str) -> tuple[dict[str, Any], bytes] | None:
        """The stored index for a fingerprint, or None."""
        row = self.session.execute(select(_BLOBS.c.meta, _BLOBS.c.data).where(_BLOBS.c.key == key)).first()
        return (dict(row.meta), bytes(row.data)) if row is not None else None

    def put(self, key: str, meta: dict[str, Any], data: bytes) -> None:
        """Store an index (same fingerprint = same content: an existing one is kept) and drop the oldest."""
        if self.session.execute(select(_BLOBS.c.key).where(_BLOBS.c.key == key)).first() is None:
            now = dt.datetime.now(dt.UTC)
            self.session.execute(_BLOBS.insert().values(key=key, meta=meta, data=data, created_at=now))
        keep = select(_BLOBS.c.key).order_by(_BLOBS.c.created_at.desc()).limit(KEEP).scalar_subquery()
        self.session.execute(delete(_BLOBS).where(_BLOBS.c.key.not_in(keep)))
