"""JobQueue's reported positions, without workers running."""

from __future__ import annotations

from bot.core.jobs.queue import JobQueue, QueuedJob


async def _never(job: QueuedJob) -> None:
    raise AssertionError("no worker runs in these tests")


def test_positions_follow_the_round_robin_over_users() -> None:
    """Users take turns one job each: A1 B1 C1 A2 C2 A3 when A has 3 jobs, B 1 and C 2."""
    queue = JobQueue(runner=_never, workers=1, max_queue=100)
    jobs = {"A1": 1, "A2": 2, "A3": 3, "B1": 4, "C1": 5, "C2": 6}
    for name, job_id in jobs.items():
        queue.submit(QueuedJob(id=job_id, user_id=ord(name[0]), chat_id=1))
    order = sorted(jobs, key=lambda name: queue.position(jobs[name]) or 0)
    assert order == ["A1", "B1", "C1", "A2", "C2", "A3"]
    assert [queue.position(jobs[name]) for name in order] == [1, 2, 3, 4, 5, 6]
