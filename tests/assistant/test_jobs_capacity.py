"""How many jobs a queue lets wait: 200 per worker wherever it is opened (the Discord bot's
Studio as much as the web app's), its pool's size public, and an explicit cap kept."""

from __future__ import annotations

import threading

import pytest

from museforge.assistant.jobs import WAITING_PER_WORKER, JobQueue, QueueFull
from museforge.bots.service import Studio
from museforge.config import load_settings


def test_a_studio_opened_without_the_web_app_holds_200_waiting_per_worker():
    studio = Studio.open(load_settings(workers=2))
    queue = studio.queue.jobs
    release = threading.Event()
    running = threading.Semaphore(0)

    def hold(job):
        running.release()
        release.wait(30)

    try:
        assert queue.workers == 2 and queue.max_waiting == 2 * WAITING_PER_WORKER == 400
        for worker in range(2):
            queue.submit(f"holder{worker}", hold)
        assert running.acquire(timeout=10) and running.acquire(timeout=10)
        for i in range(400):  # a user per job: the per-person limit of 3 stays out of it
            queue.submit(f"user{i}", lambda job: None)
        assert queue.waiting() == 400
        with pytest.raises(QueueFull, match="the queue is full"):
            queue.submit("one-more", lambda job: None)
    finally:
        release.set()
        studio.close()


def test_an_explicit_cap_is_kept_and_the_pool_size_holds_after_a_crash():
    queue = JobQueue(workers=3, max_waiting=5)
    try:
        assert queue.workers == 3 and queue.max_waiting == 5

        def crash(job):
            raise KeyboardInterrupt  # past `except Exception`: the worker itself dies

        failed = queue.submit("alice", crash)
        with pytest.raises(RuntimeError, match="crashed"):
            failed.future.result(10)
        assert queue.crashes == 1
        together = threading.Barrier(queue.workers, timeout=10)  # as many as it says it has
        jobs = [queue.submit(f"user{i}", lambda job: together.wait()) for i in range(3)]
        assert sorted(job.future.result(15) for job in jobs) == [0, 1, 2]
    finally:
        queue.close()
