"""A recording on screen: the timeline's seeks and the recorded proposals, decisions and metrics.

:class:`ReplayController` receives the replay's non-frame events (queued from the stream thread), drops those
of a generation older than the last seek, and shows them read-only: proposals in the decisions dock and on the
globe, decisions in the history (rebuilt from the bookmarks at a seek), metrics in the plot, an adversarial
world's evader moves as the globe's evader layer (the last 30 ticks). Frames go through
the same mailbox and :class:`~scythe_desktop.console.adapters.globe_view.GlobeView` as a live stream's. GUI
thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from scythe_desktop.console.adapters.globe_view import GlobeView
from scythe_desktop.console.model.evader_trail import EvaderTrail
from scythe_desktop.console.model.mailbox import FrameMailbox
from scythe_desktop.console.model.replayed import bookmark_row, decision_row, recorded_metrics, recorded_proposals
from scythe_desktop.console.widgets.decisions_dock import DecisionsDock
from scythe_desktop.console.widgets.info_docks import MetricsDock
from scythe_desktop.console.widgets.timeline import format_offset
from scythe_desktop.recording import schemas
from scythe_desktop.recording.replay import ReplaySource
from scythe_desktop.recording.timeline import ReplayEvent


class ReplayController(QObject):
    #: A recorded event, emitted on the stream thread and queued to the GUI thread.
    recorded = Signal(object)

    def __init__(self, source: ReplaySource, mailbox: FrameMailbox, decisions: DecisionsDock, metrics: MetricsDock,
                 globe: GlobeView, notify: Callable[[str], None], logged: Callable[[str, str], None],
                 parent: QObject) -> None:
        super().__init__(parent)
        self.source, self._mailbox, self._globe = source, mailbox, globe
        self._decisions, self._metrics = decisions, metrics
        self._notify, self._logged = notify, logged
        self._min_generation = 0
        self._rows: dict[int, tuple[str, str, str, str, str]] = {}
        self.evader_trail = EvaderTrail()
        self.recorded.connect(self._on_event)
        source.on_replay_event = self.recorded.emit

    def seek(self, offset_s: float) -> None:
        """Go to ``offset_s`` seconds into the recording; what was pending from before is dropped."""
        source = self.source
        # Events of the generation playing now are stale once the source has taken the seek.
        self._min_generation = max(self._min_generation, source.generation + 1)
        self._mailbox.reset_chain()  # pending node frames are stale; the seek's first frame is a keyframe
        source.seek(offset_s)
        self._decisions.set_proposals([])  # the seek's catch-up brings the proposals in force then
        self._globe.set_proposals(())
        self._decisions.clear_history()
        self._metrics.clear()  # the catch-up re-sends the samples up to the target
        self.evader_trail.clear()  # the evader's moves are events, not state: the layer starts afresh
        self._globe.evader_marks.set_marks(*self.evader_trail.marks())
        target_ns = source.start_ns + int(offset_s * 1e9)
        for bookmark in source.bookmarks:
            if bookmark.log_time_ns <= target_ns:
                row = self._rows.get(bookmark.log_time_ns) or bookmark_row(format_offset(bookmark.offset_s), bookmark)
                self._decisions.add_history_row(row)

    def _on_event(self, event: ReplayEvent) -> None:
        if event.generation < self._min_generation:
            return  # from before a seek
        message: Any = event.message
        if event.topic == schemas.TOPIC_PROPOSALS:
            proposals, problems = recorded_proposals(message)
            for problem in problems:
                self._notify(problem)
            self._decisions.set_proposals(proposals)
            self._globe.set_proposals(self._decisions.proposals)
        elif event.topic == schemas.TOPIC_DECISIONS:
            if event.catch_up:
                return  # already in the history rebuilt from the bookmarks at the seek
            row = decision_row(format_offset((event.log_time_ns - self.source.start_ns) / 1e9), message)
            self._rows[event.log_time_ns] = row
            self._decisions.add_history_row(row)
            self._logged(message.outcome, row[4])
        elif event.topic == schemas.TOPIC_METRICS:
            self._metrics.append(recorded_metrics(message))
        elif event.topic == schemas.TOPIC_EVADER:
            for problem in self.evader_trail.add(message):
                self._notify(problem)
            self._globe.evader_marks.set_marks(*self.evader_trail.marks())


__all__ = ["ReplayController"]
