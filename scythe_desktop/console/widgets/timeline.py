"""The replay timeline: a slider over the recording with decision markers, and the playback controls.

:class:`TimelineDock` shows a recording's position (polled from its player by a ``QTimer``, so nothing
crosses threads but thread-safe calls), lets the operator scrub (coalesced: one seek when the drag
pauses or ends), jump to a time, play/pause, step one node frame, pick a speed (0.25x–16x) and loop.
Markers at the recording's decisions (bookmarks) are drawn on the slider's groove; their tooltips say
who decided what. Seeks go out as ``seekRequested(offset_s)`` so the window can drop stale frames first;
everything else calls the player directly. The dock knows a :class:`ReplayControls`-shaped player, not
files, frames or the globe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from scythe_desktop.recording.replay import MAX_SPEED, MIN_SPEED, Bookmark

#: Speeds offered (the player accepts MIN_SPEED..MAX_SPEED).
SPEEDS: Final = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: Slider resolution: one step per this many seconds.
SLIDER_STEP_S: Final = 0.01
#: How often the position is polled (ms), and how long a drag must rest before it seeks (ms).
POLL_MS: Final = 100
SCRUB_MS: Final = 120

assert SPEEDS[0] >= MIN_SPEED and SPEEDS[-1] <= MAX_SPEED


class ReplayControls(Protocol):
    """What the dock drives: :class:`~scythe_desktop.recording.replay.ReplaySource`'s thread-safe controls."""

    @property
    def duration_s(self) -> float: ...
    @property
    def position_s(self) -> float: ...
    @property
    def paused(self) -> bool: ...
    @property
    def speed(self) -> float: ...

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def step(self) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def set_loop(self, loop: bool) -> None: ...


def format_offset(seconds: float) -> str:
    """``h:mm:ss.s`` (or ``m:ss.s``) from the start of the recording."""
    seconds = max(0.0, seconds)
    h, rest = divmod(seconds, 3600.0)
    m, s = divmod(rest, 60.0)
    return f"{int(h)}:{int(m):02d}:{s:04.1f}" if h else f"{int(m)}:{s:04.1f}"


class MarkedSlider(QSlider):
    """A horizontal slider that draws a marker on its groove at each bookmark's value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._markers: list[int] = []

    @property
    def markers(self) -> tuple[int, ...]:
        return tuple(self._markers)

    def set_markers(self, values: Sequence[int]) -> None:
        self._markers = sorted(int(v) for v in values)
        self.update()

    def marker_x(self, value: int) -> int:
        """Pixel x of ``value`` on the groove (where its marker is drawn)."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        return groove.x() + handle.width() // 2 + QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), value, span)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._markers:
            return
        painter = QPainter(self)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(230, 140, 30))
        for value in self._markers:
            painter.drawRect(QRect(self.marker_x(value) - 1, 0, 3, max(4, self.height() // 3)))
        painter.end()


class TimelineDock(QDockWidget):
    #: Seconds from the start the operator asked to go to (the window drops stale frames, then seeks).
    seekRequested = Signal(float)

    def __init__(self, player: ReplayControls, bookmarks: Sequence[Bookmark], parent: QWidget | None = None) -> None:
        super().__init__("Timeline", parent)
        self.setObjectName("timelineDock")
        self.player = player
        self.bookmarks = tuple(bookmarks)
        duration = max(player.duration_s, 0.0)

        self.slider = MarkedSlider()
        self.slider.setObjectName("timelineSlider")
        self.slider.setRange(0, self._to_slider(duration))
        self.slider.set_markers([self._to_slider(b.offset_s) for b in self.bookmarks])
        self.slider.setToolTip(self._markers_tooltip())
        self.slider.sliderMoved.connect(self._on_scrub)
        self.slider.sliderReleased.connect(self._seek_to_slider)
        self.slider.actionTriggered.connect(self._on_slider_action)
        self._scrub = QTimer(self)
        self._scrub.setSingleShot(True)
        self._scrub.setInterval(SCRUB_MS)
        self._scrub.timeout.connect(self._seek_to_slider)

        self.play_button = QPushButton("Pause")
        self.play_button.setObjectName("timelinePlay")
        self.play_button.setToolTip("Play / pause the recording (Space)")
        self.play_button.setShortcut("Space")
        self.play_button.clicked.connect(self.toggle_play)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("While paused: advance to the next node frame (.)")
        self.step_button.setShortcut(".")
        self.step_button.clicked.connect(self.step)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed")
        for value in SPEEDS:
            self.speed.addItem(f"{value:g}x", value)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda i: self.player.set_speed(float(self.speed.itemData(i))))
        self.loop = QCheckBox("Loop")
        self.loop.toggled.connect(self.player.set_loop)
        self.jump = QDoubleSpinBox()
        self.jump.setRange(0.0, duration)
        self.jump.setDecimals(2)
        self.jump.setSuffix(" s")
        self.jump.setToolTip("Time from the start of the recording")
        self.jump_button = QPushButton("Go")
        self.jump_button.setToolTip("Jump to this time")
        self.jump_button.clicked.connect(lambda: self.seek(self.jump.value()))
        self.position = QLabel()
        self.position.setObjectName("timelinePosition")

        row = QHBoxLayout()
        for widget in (self.play_button, self.step_button, QLabel("speed"), self.speed, self.loop,
                       QLabel("jump to"), self.jump, self.jump_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.position)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.slider)
        layout.addLayout(row)
        self.setWidget(body)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------------------------------ controls

    def start(self) -> None:
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()
        self._scrub.stop()

    def toggle_play(self) -> None:
        if self.player.paused:
            self.player.resume()
        else:
            self.player.pause()
        self.refresh()

    def step(self) -> None:
        if not self.player.paused:
            self.player.pause()
        self.player.step()

    def seek(self, offset_s: float) -> None:
        """Go to ``offset_s`` seconds from the start (the window performs it; see ``seekRequested``)."""
        offset_s = min(max(offset_s, 0.0), self.player.duration_s)
        self.slider.setValue(self._to_slider(offset_s))
        self.seekRequested.emit(offset_s)
        self.refresh()

    def refresh(self) -> None:
        """Show the player's position and state (the poll timer calls this)."""
        position = self.player.position_s
        if not self.slider.isSliderDown() and not self._scrub.isActive():
            self.slider.blockSignals(True)
            self.slider.setValue(self._to_slider(position))
            self.slider.blockSignals(False)
        paused = self.player.paused
        self.play_button.setText("Play" if paused else "Pause")
        self.step_button.setEnabled(True)
        state = "paused" if paused else f"playing {self.player.speed:g}x"
        self.position.setText(f"{format_offset(position)} / {format_offset(self.player.duration_s)} · {state}")

    # ----------------------------------------------------------------------------------------- internals

    @staticmethod
    def _to_slider(seconds: float) -> int:
        return round(seconds / SLIDER_STEP_S)

    def _on_scrub(self, _value: int) -> None:
        self._scrub.start()  # restarts: one seek once the drag rests

    def _on_slider_action(self, action: int) -> None:
        # Clicks on the groove and keyboard paging move the value without a drag: seek there too.
        if action != QSlider.SliderAction.SliderMove.value and not self.slider.isSliderDown():
            self._scrub.start()

    def _seek_to_slider(self) -> None:
        self._scrub.stop()
        self.seekRequested.emit(self.slider.value() * SLIDER_STEP_S)

    def _markers_tooltip(self) -> str:
        if not self.bookmarks:
            return "No decisions in this recording"
        lines = [f"{format_offset(b.offset_s)}  {b.who}: {b.outcome} {b.label}" for b in self.bookmarks[:20]]
        if len(self.bookmarks) > 20:
            lines.append(f"… and {len(self.bookmarks) - 20} more")
        return "Decisions (markers):\n" + "\n".join(lines)


__all__ = ["SPEEDS", "MarkedSlider", "ReplayControls", "TimelineDock", "format_offset"]
