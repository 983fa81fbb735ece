"""Live content: every process polls the stored content version and swaps in a rebuilt matcher when it moves."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.model import KnowledgeBase
from bot.services.answering import AnswerService
from bot.services.ports import UnitOfWork

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.25  # seconds between version checks (one single-row read each)


@dataclass(frozen=True)
class Snapshot:
    """One consistent generation of content: the knowledge base and the answer service built on it."""

    version: int
    kb: KnowledgeBase
    answers: AnswerService


class LiveKnowledge:
    """Holds the current Snapshot; `answers()` is what long-running services call on every message.

    At most every `interval` seconds a caller checks the content version; when it changed, a background
    thread reloads the knowledge base and rebuilds the matcher (index cache first) while the old snapshot
    keeps serving, then swaps the new one in with one assignment.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        build: Callable[[KnowledgeBase], AnswerService],
        initial: Snapshot,
        *,
        interval: float = CHECK_INTERVAL,
        background: bool = True,
        clock: Callable[[], float] = time.monotonic,
        share: Callable[[AnswerService, UnitOfWork], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.build = build
        self.share = share
        self.interval = interval
        self.background = background
        self.clock = clock
        self._snapshot = initial
        self._checked_at = clock()
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The snapshot now serving (no check)."""
        return self._snapshot

    def answers(self) -> AnswerService:
        """The current answer service, after a version check when one is due."""
        self.check_if_due()
        return self._snapshot.answers

    def kb(self) -> KnowledgeBase:
        """The current knowledge base, after a version check when one is due."""
        self.check_if_due()
        return self._snapshot.kb

    def check_if_due(self) -> None:
        """Check the stored version if `interval` passed since the last check; start a rebuild when it moved."""
        now = self.clock()
        if now - self._checked_at < self.interval:
            return
        with self._lock:
            if now - self._checked_at < self.interval or self._rebuilding is not None:
                return
            self._checked_at = now
        try:
            with self.uow_factory() as uow:
                version = uow.knowledge.version()
        except Exception:  # a database hiccup must not break answering: keep serving, try again later
            log.warning("content version check failed; still serving version %s", self._snapshot.version)
            return
        if version == self._snapshot.version:
            return
        if not self.background:
            self.refresh()
            return
        with self._lock:
            if self._rebuilding is None:
                self._rebuilding = threading.Thread(target=self._rebuild_in_background, daemon=True)
                self._rebuilding.start()

    def refresh(self) -> bool:
        """Reload and rebuild now if the stored version differs; True when a new snapshot was swapped in."""
        with self.uow_factory() as uow:
            version = uow.knowledge.version()
            if version == self._snapshot.version:
                return False
            kb = uow.knowledge.get()
        started = time.perf_counter()
        answers = self.build(kb)
        self._snapshot = Snapshot(version, kb, answers)
        log.info("content version %s live (rebuilt in %.2f s)", version, time.perf_counter() - started)
        return True

    def prepare(self, kb: KnowledgeBase, uow: UnitOfWork | None = None) -> None:
        """Build (and cache) the index for content about to be committed: other processes then load it, not build it.

        Editing services call this inside their transaction `uow`, before the version bump becomes visible; the
        index is stored in that same transaction, so no process sees the new version without its index.
        """
        answers = self.build(kb)
        if uow is not None and self.share is not None:
            self.share(answers, uow)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for a rebuild in progress (tests and benchmarks)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)

    def _rebuild_in_background(self) -> None:
        try:
            self.refresh()
        except Exception:
            log.exception("content rebuild failed; still serving version %s", self._snapshot.version)
        finally:
            with self._lock:
                self._rebuilding = None
