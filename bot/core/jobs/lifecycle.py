"""A job's states and the only moves between them, written down once.

    queued ──► running ──► generated ──► done
      │          │  ▲          │
      │          └──┘          │           running → running: an interrupted attempt starts again
      ├──────────┴─────────────┴──► failed  (told to the user once: ``notified``)
      └──────────┴──► cancelled

Every status change goes through ``JobStore.move``, which applies a move only from the states listed
here (in the same UPDATE: ``WHERE status IN (...)``), so a job already done, failed or cancelled is
never moved again, whoever asks. The next step (leases for several workers) adds its condition there.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.types import JobStatus

__all__ = ["FINAL", "MOVES", "allowed_from"]

MOVES: Mapping[JobStatus, frozenset[JobStatus]] = {
    JobStatus.RUNNING: frozenset({JobStatus.QUEUED, JobStatus.RUNNING}),
    JobStatus.GENERATED: frozenset({JobStatus.RUNNING}),
    JobStatus.DONE: frozenset({JobStatus.GENERATED}),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.GENERATED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED, JobStatus.RUNNING}),
}
"""Target state → the states a job may be in to move there."""
FINAL = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


def allowed_from(target: JobStatus) -> frozenset[JobStatus]:
    """The states from which a job may move to ``target`` (none into ``queued``: jobs start there)."""
    return MOVES.get(target, frozenset())
