"""The shared job queue: users take turns, a waiting job knows its place, limits are
said plainly, cancelling works, and a crashed worker is replaced."""

from __future__ import annotations

import threading

import pytest

from museforge.assistant.jobs import JobQueue, QueueFull


@pytest.fixture
def queue():
    q = JobQueue(workers=1, per_user_limit=3)
    yield q
    q.close()


def blocker():
    """A job that holds the only worker until released."""
    started, release = threading.Event(), threading.Event()

    def fn(job):
        started.set()
        release.wait(10)
        return "held"

    return fn, started, release


def test_users_take_turns_not_first_come_first_served(queue):
    fn, started, release = blocker()
    queue.submit("carol", fn)
    assert started.wait(5)
    ran: list[str] = []
    jobs = [queue.submit(user, lambda job, tag=tag: ran.append(tag))
            for user, tag in [("alice", "a1"), ("alice", "a2"), ("alice", "a3"),
                              ("bob", "b1"), ("bob", "b2")]]
    assert [j.position() for j in jobs] == [1, 3, 5, 2, 4]
    release.set()
    for j in jobs:
        j.future.result(5)
    assert ran == ["a1", "b1", "a2", "b2", "a3"]
    assert all(j.state == "done" and j.position() == 0 for j in jobs)


def test_a_user_with_too_many_jobs_is_told_so(queue):
    fn, started, release = blocker()
    queue.submit("alice", fn)
    assert started.wait(5)
    queue.submit("alice", lambda job: None)
    queue.submit("alice", lambda job: None)
    with pytest.raises(QueueFull, match="already have 3 requests"):
        queue.submit("alice", lambda job: None)
    queue.submit("bob", lambda job: None)  # others are not held up by alice's limit
    release.set()


def test_cancelling_a_waiting_job_means_it_never_runs(queue):
    fn, started, release = blocker()
    queue.submit("alice", fn)
    assert started.wait(5)
    ran = []
    job = queue.submit("bob", lambda job: ran.append("bob"))
    assert job.cancel()
    release.set()
    queue.submit("bob", lambda job: ran.append("later")).future.result(5)
    assert ran == ["later"] and job.state == "cancelled" and job.future.cancelled()


def test_a_running_job_sees_its_cancel_event(queue):
    seen = threading.Event()

    def fn(job):
        while not job.cancel_event.wait(0.01):
            pass
        seen.set()
        return "stopped"

    job = queue.submit("alice", fn)
    while job.state != "running":
        pass
    assert job.cancel()
    assert job.future.result(5) == "stopped" and seen.is_set()
    assert job.state == "cancelled"


def test_a_failing_job_is_reported_and_a_crashed_worker_replaced(queue):
    failing = queue.submit("alice", lambda job: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.future.result(5)

    def crash(job):
        raise SystemExit("boom")

    crashed = queue.submit("alice", crash)
    with pytest.raises(RuntimeError, match="worker running this job crashed"):
        crashed.future.result(5)
    assert queue.submit("alice", lambda job: "alive").future.result(5) == "alive"
    assert queue.crashes == 1


def test_progress_reaches_the_front_end(queue):
    events = []

    def fn(job):
        for i in range(1, 4):
            job.progress("painting", i, 3)
        return "ok"

    job = queue.submit("alice", fn, on_progress=lambda *e: events.append(e))
    assert job.future.result(5) == "ok"
    assert events == [("painting", 1, 3), ("painting", 2, 3), ("painting", 3, 3)]


def test_two_workers_run_two_users_at_once():
    q = JobQueue(workers=2)
    barrier = threading.Barrier(2, timeout=5)
    try:
        jobs = [q.submit(u, lambda job: barrier.wait()) for u in ("alice", "bob")]
        for j in jobs:
            j.future.result(5)  # both had to be running together to pass the barrier
    finally:
        q.close()
