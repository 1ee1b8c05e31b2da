"""Background work for every front end: one worker thread, a stop flag, a snapshot to poll.

Live training (``explorer.live_training``) and style transfer (``explorer.stylise``) both run
in a :class:`BackgroundJob`; a page never waits on the work, it *polls* the job::

    job = BackgroundJob(work, name="stylise").start()    # work(job) runs in a thread
    view = job.poll()                                    # each refresh of the page (~1-2/s):
                                                         #   "still watching", then status,
                                                         #   step, curves, picture; never blocks
    job.request_stop()                                   # Stop button; job.stop() also joins

The work reports through ``job.emit(event)`` with the events of :mod:`trainers.events`
(``Step``, ``Samples``, ``Checkpointed``, ``Finished``): the job keeps the scalar history of
every ``Step`` (for :mod:`explorer.charts`), the latest ``Samples`` picture and the
``Finished`` reason; nothing else of an event is kept. A Gradio ``gr.Timer`` and a Streamlit
fragment read the same :class:`JobSnapshot`; a streaming caller uses :meth:`BackgroundJob.follow`.

:class:`JobSlot` is the optional "one job of this kind per machine" rule (training takes the
whole CPU/GPU): ``slot.claim(job)`` raises :class:`JobBusyError` while another job runs.
Nothing here imports a front end.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainers.events import Event, Finished, Samples, Step

ORPHAN_TIMEOUT_S = 180.0  # nobody polled for this long: the job stops itself (a closed page)


class JobBusyError(RuntimeError):
    """Another job of this kind is running on this machine. The message says whose and how far."""


# ---------------------------------------------------------------------------------------------
# History: the numbers a chart plots
# ---------------------------------------------------------------------------------------------


class History(Mapping[str, list[float]]):
    """Named scalar series over steps, appended by the worker and read by the page.

    ``history["step"]`` and ``history[name]`` are equal-length lists (a value not given at a
    step is NaN), so ``dict(history)`` is exactly the plain data :mod:`explorer.charts` takes.
    Appends and copies hold a lock: the worker thread and a page may use it at once.
    """

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, list[float]] = {"step": [], **{name: [] for name in names}}

    def append(self, step: int, **values: float | None) -> None:
        """Add one row; names seen for the first time are back-filled with NaN."""
        with self._lock:
            rows = len(self._data["step"])
            for name in values:
                if name not in self._data:
                    self._data[name] = [math.nan] * rows
            self._data["step"].append(int(step))
            for name, column in self._data.items():
                if name != "step":
                    value = values.get(name)
                    column.append(math.nan if value is None else float(value))

    def add_step(self, event: Step) -> None:
        """One training ``Step``: its losses plus D(x) / D(G(z)) when it has them."""
        extra = {"d_real": event.d_real, "d_fake": event.d_fake} if event.d_real is not None else {}
        self.append(event.step, **event.losses, **extra)

    def truncate(self, step: int) -> None:
        """Forget the rows after ``step`` (a resumed run goes on from its checkpoint)."""
        with self._lock:
            keep = sum(1 for s in self._data["step"] if s <= step)
            for column in self._data.values():
                del column[keep:]

    def copy(self) -> dict[str, list[float]]:
        """A snapshot as a plain dict of lists (safe to hand to another thread)."""
        with self._lock:
            return {name: list(column) for name, column in self._data.items()}

    def last(self) -> dict[str, float]:
        """The newest row ({} when empty)."""
        with self._lock:
            if not self._data["step"]:
                return {}
            return {name: column[-1] for name, column in self._data.items()}

    def __getitem__(self, name: str) -> list[float]:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    def __len__(self) -> int:  # the number of series, as for any Mapping
        return len(self._data)

    @property
    def rows(self) -> int:
        """How many steps are recorded."""
        return len(self._data["step"])


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSnapshot:
    """What a page shows of a job at one moment (plain data, safe to keep).

    Attributes:
        id / name: the job's id and kind ("training", "stylise").
        state: "starting", "running" or "finished".
        status: one Markdown line for people.
        step / target: progress (target 0 = unknown).
        history: the scalar series (``{"step": [...], name: [...]}``) for the charts.
        image: the latest picture (uint8 (H, W, C)) or None.
        reason / message: how it ended ("done", "stopped", "error"), when it has.
        extra: job-specific values (e.g. the quality figures of a training run).
    """

    id: str
    name: str
    state: str
    status: str
    step: int
    target: int
    history: dict[str, list[float]]
    image: np.ndarray | None
    reason: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state == "finished"


class BackgroundJob:
    """Run ``work(job)`` (or an overridden :meth:`work`) in one daemon thread.

    Args:
        work: called in the worker thread with the job; it reports with :meth:`emit`, checks
            :attr:`stop_event` (or :meth:`should_stop`) between steps, and may return a result
            (kept in :attr:`result`). An exception ends the job with reason "error".
        name: the kind of job; the thread is called ``gan-explorer-<name>-<id>``.
        target: steps planned (for the progress text), 0 if unknown.
        orphan_timeout: seconds without :meth:`touch` after which the job stops itself
            (None = never); a page that polls calls ``touch`` at every refresh.
        stop_event: an event to use as :attr:`stop_event` (e.g. one a page already holds).
    """

    def __init__(
        self,
        work: Callable[[BackgroundJob], Any] | None = None,
        *,
        name: str = "job",
        target: int = 0,
        orphan_timeout: float | None = ORPHAN_TIMEOUT_S,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.name = name
        self._work_fn = work
        self.state = "starting"  # starting -> running -> finished
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self._news = threading.Event()  # set by emit(): follow() wakes up on it
        self.history = History()
        self.image: np.ndarray | None = None
        self.step = 0
        self.target = target
        self.started_at = time.time()
        self.finished: Finished | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.orphan_timeout = orphan_timeout
        self.last_seen = time.monotonic()
        self._thread: threading.Thread | None = None

    # --- the worker's side ----------------------------------------------------------------------

    def work(self) -> Any:
        """The job's work (runs in the worker thread). Subclasses may override it."""
        if self._work_fn is None:
            raise NotImplementedError("pass work= or override BackgroundJob.work")
        return self._work_fn(self)

    def emit(self, event: Event) -> None:
        """Record an event: a ``Step``'s numbers, a ``Samples`` picture, the ``Finished`` end."""
        if isinstance(event, Step):
            self.step = event.step
            self.history.add_step(event)
        elif isinstance(event, Samples):
            self.image = event.image
        elif isinstance(event, Finished):
            self.finished = event
        self._news.set()

    def should_stop(self) -> bool:
        """True once Stop was pressed, or nobody has polled for ``orphan_timeout`` seconds."""
        if (
            self.orphan_timeout is not None
            and time.monotonic() - self.last_seen > self.orphan_timeout
        ):
            self.stop_event.set()
        return self.stop_event.is_set()

    def _run(self) -> None:
        try:
            self.result = self.work()
        except Exception as error:  # noqa: BLE001 - the page shows it; the thread ends cleanly
            self.error = error
            self.emit(Finished(self.step, "error", f"{type(error).__name__}: {error}"))
        finally:
            if self.finished is None:
                reason = "stopped" if self.stop_event.is_set() else "done"
                self.emit(Finished(self.step, reason))
            self.on_finish()
            self.state = "finished"

    def on_finish(self) -> None:
        """Runs in the worker thread after the work, before the state becomes "finished"."""

    # --- the page's side ------------------------------------------------------------------------

    def start(self) -> BackgroundJob:
        """Start the worker thread; returns the job."""
        self.state = "running"
        self.last_seen = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name=f"gan-explorer-{self.name}-{self.id}", daemon=True
        )
        self._thread.start()
        return self

    @property
    def is_alive(self) -> bool:
        """Starting, or its worker thread is still running."""
        return self.state == "starting" or (self._thread is not None and self._thread.is_alive())

    def touch(self) -> None:
        """A page still follows the job (keeps the orphan watchdog quiet)."""
        self.last_seen = time.monotonic()

    def request_stop(self) -> None:
        """Ask the work to stop at its next check (returns at once)."""
        self.stop_event.set()

    def stop(self, timeout: float | None = 120.0) -> bool:
        """Ask the work to stop and wait for the thread. True if it ended."""
        self.stop_event.set()
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread (not from inside it). True if it has ended."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return thread is None or not thread.is_alive()

    def poll(self) -> JobSnapshot:
        """What a page calls at each refresh: :meth:`touch`, then :meth:`snapshot`."""
        self.touch()
        return self.snapshot()

    def status_text(self) -> str:
        """One Markdown line (subclasses say more)."""
        state = self.finished.reason if self.finished is not None else self.state
        target = f" / {self.target}" if self.target else ""
        return f"**{state}** · step {self.step}{target}"

    def snapshot_extra(self) -> dict[str, Any]:
        """Job-specific values for :attr:`JobSnapshot.extra` (subclasses)."""
        return {}

    def snapshot(self) -> JobSnapshot:
        """The job as plain data, for a page. "finished" only once the thread has ended."""
        finished = self.state == "finished"
        end = self.finished if finished else None
        status = self.status_text()
        if end is not None and end.reason == "error":
            status += f"  \n⚠️ {end.message}"
        return JobSnapshot(
            id=self.id,
            name=self.name,
            state=self.state,
            status=status,
            step=self.step,
            target=self.target,
            history=self.history.copy(),
            image=self.image,
            reason=end.reason if end is not None else "",
            message=end.message if end is not None else "",
            extra=self.snapshot_extra(),
        )

    def follow(self, interval: float = 0.5, heartbeat: float = 1.0) -> Iterator[JobSnapshot]:
        """Yield a snapshot when something changed (at most every ``interval`` s, at least every
        ``heartbeat`` s) until the job has finished; the last one is finished.

        Closing the generator early (a streaming page went away) stops and joins the job.
        """
        last = -math.inf
        done = False
        try:
            while True:
                self.touch()
                changed = self._news.wait(min(0.05, interval))
                self._news.clear()
                done = self.state == "finished"
                now = time.monotonic()
                if done or (changed and now - last >= interval) or now - last >= heartbeat:
                    if done:
                        self.join()
                    yield self.snapshot()
                    last = now
                    if done:
                        return
        finally:
            if not done:
                self.stop()


# ---------------------------------------------------------------------------------------------
# One job per machine
# ---------------------------------------------------------------------------------------------


class JobSlot:
    """At most one running job of a kind on this machine, plus the recent ones by id.

    Args:
        kind: what the jobs do, for messages ("training").
        remember: how many recent jobs :meth:`get` can still find.
    """

    def __init__(self, kind: str, remember: int = 8) -> None:
        self.kind = kind
        self.remember = remember
        self._lock = threading.Lock()
        self._running: BackgroundJob | None = None
        self._recent: dict[str, BackgroundJob] = {}

    def claim(self, job: BackgroundJob, describe: Callable[[BackgroundJob], str] | None = None):
        """Make ``job`` the running one, or raise :class:`JobBusyError` naming the other job."""
        with self._lock:
            running = self._running
            if running is not None and running.is_alive and running is not job:
                who = describe(running) if describe is not None else f"job {running.id}"
                raise JobBusyError(
                    f"A {self.kind} job is already running on this machine: {who}. One job at "
                    "a time; wait for it to finish or ask its owner to stop it."
                )
            self._running = job
            self._recent[job.id] = job
            for old in list(self._recent)[: -self.remember]:
                self._recent.pop(old, None)

    def release(self, job: BackgroundJob) -> None:
        """The job ended (or never started): the machine is free again."""
        with self._lock:
            if self._running is job:
                self._running = None

    def current(self) -> BackgroundJob | None:
        """The running job, or None (a finished one is released lazily)."""
        with self._lock:
            if self._running is not None and not self._running.is_alive:
                self._running = None
            return self._running

    def get(self, job_id: str | None) -> BackgroundJob | None:
        """A recent job by id (running or finished), or None."""
        with self._lock:
            return self._recent.get(job_id or "")

    def recent(self) -> list[BackgroundJob]:
        with self._lock:
            return list(self._recent.values())


class Gate:
    """At most ``concurrency`` model computations at once on this server, and at most
    ``queue_size`` waiting for their turn (:class:`explorer.context.VisitorLimits`): Gradio's
    queue does this for the Gradio edition; the Streamlit edition runs every user's script in a
    thread of its own, so without a gate a crowd would share the CPU between everyone at once
    and each would wait for all. ``with gate(): ...`` around the model work."""

    def __init__(self, concurrency: int, queue_size: int) -> None:
        self.slots = threading.BoundedSemaphore(concurrency)
        self.queue_size = queue_size
        self.waiting = 0
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.waiting >= self.queue_size:
                raise BusyError(
                    "This explorer is busy: too many requests are waiting. Try again in a moment."
                )
            self.waiting += 1
        try:
            self.slots.acquire()
        finally:
            with self.lock:
                self.waiting -= 1
        try:
            yield
        finally:
            self.slots.release()


class BusyError(ValueError):
    """Too many requests are waiting for the model (a ValueError: pages show it as st.error)."""


__all__ = [
    "ORPHAN_TIMEOUT_S",
    "BackgroundJob",
    "BusyError",
    "Gate",
    "History",
    "JobBusyError",
    "JobSlot",
    "JobSnapshot",
]
