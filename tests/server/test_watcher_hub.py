"""The job watcher's hub against a counting fake upstream and a clock the test drives.

Every count here is over a fixed number of intervals of a :class:`ManualClock`: no wall-clock
time is measured or asserted.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from jupyter_qrt.server.watcher import AccountWatch, WatcherHub

from .watcher_fakes import HANG_GUARD_SECONDS, CountingSource, ManualClock, ibm_job

INTERVALS = 5


async def stop(hub: WatcherHub) -> None:
    """Stop the hub's pollers and let their cancellation run."""
    await asyncio.gather(*hub.stop(), return_exceptions=True)


def make_hub(
    source: CountingSource, clock: ManualClock, *, interval: float = 1.0, max_interval: float = 8.0
) -> WatcherHub:
    return WatcherHub(
        upstream=None,
        interval=interval,
        max_interval=max_interval,
        source=source,
        sleep=clock.sleep,
        linger=1e9,
    )


async def _follow(watch: AccountWatch, since: int, seen: list[int]) -> None:
    """A subscriber: waits for each change and records the version it saw."""
    while True:
        if await watch.wait_change(since, HANG_GUARD_SECONDS):
            since = watch.version
            seen.append(since)


async def _polls_with(subscribers: int) -> tuple[int, int, list[list[int]], int]:
    """List polls and by-id fetches over :data:`INTERVALS` intervals with ``subscribers``."""
    source = CountingSource()
    source.jobs = [ibm_job("job-1", "Running")]
    clock = ManualClock()
    hub = make_hub(source, clock)
    seen: list[list[int]] = [[] for _ in range(subscribers)]
    async with AsyncExitStack() as stack:
        watches = [
            await stack.enter_async_context(hub.subscribe("acct")) for _ in range(subscribers)
        ]
        await clock.sleeping()
        start = watches[0].version
        tasks = [
            asyncio.ensure_future(_follow(w, start, s)) for w, s in zip(watches, seen, strict=True)
        ]
        before = source.list_calls
        for index in range(INTERVALS):
            if index == 2:  # the upstream job moves on: every subscriber must see it
                source.jobs = [ibm_job("job-1", "Completed")]
            await clock.tick()
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        version = hub.watch("acct").version
    await stop(hub)
    return source.list_calls - before, len(source.get_calls), seen, version


async def test_upstream_polls_per_interval_stay_the_same_with_1_10_and_100_subscribers() -> None:
    results = {n: await _polls_with(n) for n in (1, 10, 100)}
    for n, (list_polls, by_id, seen, version) in results.items():
        # One list poll per interval, whatever the number of subscribers.
        assert list_polls == INTERVALS, (n, list_polls)
        assert by_id == 0, (n, by_id)
        # ... and every subscriber got the change (the job's completion) from that one poll.
        assert all(s == [version] for s in seen), (n, seen[:3])


async def test_a_failing_upstream_spreads_polls_out_reports_the_error_and_recovers() -> None:
    source = CountingSource()
    source.jobs = [ibm_job("job-1", "Queued")]
    source.failure = "The runtime API answered 503: Service Unavailable"
    clock = ManualClock()
    hub = make_hub(source, clock, interval=1.0, max_interval=8.0)
    async with hub.subscribe("acct") as watch:
        await clock.sleeping()
        for _ in range(4):
            await clock.tick()
        # The pause doubles after each failed poll, up to max_interval: one poll per pause.
        assert clock.delays == [2.0, 4.0, 8.0, 8.0, 8.0]
        assert source.list_calls == 5
        snapshot = watch.snapshot()
        assert snapshot["error"] == "The runtime API answered 503: Service Unavailable"
        assert snapshot["jobs"] == []
        assert hub.status()["last_error"] == snapshot["error"]
        assert hub.status()["accounts"][0]["interval"] == 8.0

        failing_version = watch.version
        source.failure = None
        await clock.tick()
        assert clock.delays[-1] == 1.0  # back to the normal interval
        assert watch.error is None
        change = watch.changes_since(failing_version)
        assert change["error"] is None
        assert [job["id"] for job in change["jobs"]] == ["job-1"]
        assert hub.status()["last_error"] is None
    await stop(hub)


async def test_a_tracked_job_is_fetched_at_once_without_an_extra_list_poll() -> None:
    source = CountingSource()
    source.hidden["job-new"] = ibm_job("job-new", "Queued", created="2026-12-06T03:01:00Z")
    clock = ManualClock()
    hub = make_hub(source, clock)
    async with hub.subscribe("acct") as watch:
        await clock.sleeping()
        version = watch.version
        for _ in range(10):  # a client repeating itself costs one fetch, not ten
            hub.track("acct", "job-new")
        assert await watch.wait_change(version, HANG_GUARD_SECONDS)
        assert [job["id"] for job in watch.snapshot()["jobs"]] == ["job-new"]
        assert source.get_calls == ["job-new"]
        assert source.list_calls == 1  # the list poll stays on its schedule

        # Not on the list page and not final: followed by id each interval, until final.
        await clock.tick()
        assert source.get_calls == ["job-new"] * 2
        source.hidden["job-new"] = ibm_job("job-new", "Completed", created="2026-12-06T03:01:00Z")
        await clock.tick()
        assert watch.jobs["job-new"]["status"] == "Completed"
        await clock.tick()
        assert source.get_calls == ["job-new"] * 3
        assert source.list_calls == 4

        # An id the upstream does not know is dropped, and reported as nothing.
        hub.track("acct", "no-such-job")
        await clock.tick()
        assert "no-such-job" not in watch.jobs
    await stop(hub)


async def test_changes_since_a_version_name_only_the_changed_jobs() -> None:
    source = CountingSource()
    source.jobs = [
        ibm_job("job-2", "Queued", "2026-12-06T03:02:00Z"),
        ibm_job("job-1", "Completed"),
    ]
    clock = ManualClock()
    hub = make_hub(source, clock)
    async with hub.subscribe("acct") as watch:
        await clock.sleeping()
        version = watch.version
        full = watch.changes_since(None)
        assert full["reset"] is True
        assert [job["id"] for job in full["jobs"]] == ["job-2", "job-1"]
        await clock.tick()
        assert watch.version == version  # nothing moved: no new version
        source.jobs[0] = ibm_job("job-2", "Running", "2026-12-06T03:02:00Z")
        await clock.tick()
        change = watch.changes_since(version)
        assert change["reset"] is False
        assert [(job["id"], job["status"]) for job in change["jobs"]] == [("job-2", "Running")]
        # A version this poller never gave (another server process) gets the whole list.
        assert watch.changes_since(version + 1000)["reset"] is True
        assert watch.changes_since(1)["reset"] is True
    await stop(hub)


async def test_the_poller_stops_after_its_last_reader_and_a_new_one_starts_above_it() -> None:
    source = CountingSource()
    source.jobs = [ibm_job("job-1")]
    clock = ManualClock()
    hub = WatcherHub(
        upstream=None, interval=1.0, max_interval=8.0, source=source, sleep=clock.sleep, linger=3.0
    )
    first = hub.touch("acct")  # a GET of the list, no stream
    await clock.sleeping()
    for _ in range(2):
        await clock.tick()
    clock_task = asyncio.ensure_future(clock.tick())  # the poller ends instead of sleeping
    assert first.task is not None
    await asyncio.wait_for(asyncio.shield(first.task), HANG_GUARD_SECONDS)
    clock_task.cancel()
    assert hub.status()["accounts"] == []
    assert source.list_calls == 4  # 3 s of linger at 1 s: the first poll and three more

    second = hub.touch("acct")
    await clock.sleeping()
    assert second is not first
    assert second.base > first.version
    assert second.needs_reset(first.version)
    await stop(hub)
