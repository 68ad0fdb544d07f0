"""Read SCYTHE recordings: open and validate, iterate and seek through the index, recover truncated files.

:class:`Recording` opens a cleanly closed file through its summary (chunk and message indexes), so a
time range or a backwards search for the last keyframe reads only the chunks it needs
(:mod:`~scythe_desktop.recording.chunk_table`). A file without a summary (the writer was killed) is refused
with :class:`TruncatedRecording`, whose message says to run ``scythe recording repair``; :class:`Recovery`
reads such a file front to back, record by record in file order, and stops cleanly at the first incomplete
record, which yields every message of every complete chunk. Chunks are always decompressed by
:mod:`~scythe_desktop.recording.chunks`, capped at their declared size and a limit (a decompression bomb is
refused, naming its chunk, and costs no memory). :func:`inspect` reports what ``scythe recording check``
prints. Messages of a format-2 file's packed topics (:mod:`~scythe_desktop.recording.packing`) are handed
out unpacked, as the bytes a format-1 file holds, so nothing above this module knows the difference; a
format-1 file is read as it always was. Every problem, whatever the bytes, is a :class:`RecordingError`
naming the file and what was wrong: the mcap library raises a zoo of exception types on corrupt input,
and they all stop here. This module knows MCAP and our topics; it does not decode frames or know Qt.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Final

from mcap.exceptions import EndOfFile
from mcap.reader import SeekingReader
from mcap.records import Channel, Chunk, McapRecord, Message, Metadata, Schema
from mcap.stream_reader import StreamReader
from mcap.summary import Summary

from scythe_desktop.recording import schemas
from scythe_desktop.recording.chunk_table import ChunkReadError, ChunkTable, RecordedMessage
from scythe_desktop.recording.chunks import RECORD_SIZE_LIMIT, ChunkError, chunk_records
from scythe_desktop.recording.packing import PackError, Unpacker

_MAGIC: Final = b"\x89MCAP0\r\n"


class RecordingError(ValueError):
    """A file that cannot be read as a SCYTHE recording; the message names the file and the problem."""


class TruncatedRecording(RecordingError):
    """The file has no summary: its writer did not close it (killed, crashed, still running)."""


@dataclass(frozen=True, slots=True)
class RecordingReport:
    """What ``scythe recording check`` prints."""

    path: Path
    cleanly_closed: bool
    start_ns: int
    end_ns: int
    message_counts: dict[str, int]
    schemas: dict[str, str]  # topic -> schema name
    metadata: dict[str, str] = field(default_factory=dict)
    chunk_count: int = 0
    problem: str = ""  # why reading stopped early, for a truncated file

    @property
    def duration_s(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e9

    @property
    def message_count(self) -> int:
        return sum(self.message_counts.values())


def _fail(path: Path, exc: BaseException) -> RecordingError:
    return RecordingError(f"{path}: not a readable SCYTHE recording ({type(exc).__name__}: {exc})")


def _check_magic(path: Path, stream: BinaryIO) -> None:
    head = stream.read(len(_MAGIC))
    stream.seek(0)
    if head != _MAGIC:
        raise RecordingError(f"{path}: not an MCAP recording (the file does not start with the MCAP magic bytes)")


def _check_metadata(path: Path, metadata: dict[str, str]) -> None:
    raw = metadata.get("format")
    if raw is None:
        raise RecordingError(f"{path}: an MCAP file but not a SCYTHE recording (no {schemas.METADATA_NAME!r} "
                             "metadata)")
    try:
        version = int(raw)
    except ValueError:
        raise RecordingError(f"{path}: recording format {raw!r} is not a number") from None
    if version > schemas.RECORDING_FORMAT:
        raise RecordingError(f"{path}: recording format {version} is newer than this build reads "
                             f"({schemas.RECORDING_FORMAT}); update SCYTHE Desktop")


def _check_schema(path: Path, topic: str, schema: Schema | None, encoding: str) -> bool:
    """Topics we know must carry the schema we wrote; unknown topics are allowed (and ignored).
    True when the topic's messages are packed (format 2)."""
    known = schemas.TOPICS.get(topic)
    if known is None:
        return False
    got = schema.name if schema is not None else "(none)"
    packed = topic in schemas.PACKING and got == schemas.PACKED_TOPIC.schema_name
    if schema is None or (schema.name != known.schema_name and not packed) or encoding != "protobuf":
        raise RecordingError(f"{path}: topic {topic} has unknown schema {got} ({encoding}); "
                             f"this build reads {known.schema_name} (protobuf)")
    return packed


class Recording:
    """An open, cleanly closed recording. Close it (or use ``with``) when done.

    Not thread-safe: each reader thread opens its own (opening reads only the summary).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot open ({exc.strerror or exc})") from None
        try:
            self._open()
        except RecordingError:
            self._file.close()
            raise
        except Exception as exc:  # corrupt input: see the module docstring
            self._file.close()
            raise _fail(self.path, exc) from exc

    def _open(self) -> None:
        _check_magic(self.path, self._file)
        self._reader = SeekingReader(self._file, validate_crcs=True, record_size_limit=RECORD_SIZE_LIMIT)
        # A finished file ends with the magic bytes after its footer; a killed writer's file does not.
        self._file.seek(-len(_MAGIC), io.SEEK_END)
        closed = self._file.read(len(_MAGIC)) == _MAGIC
        self._file.seek(0)
        summary = self._reader.get_summary() if closed else None
        if summary is None or summary.statistics is None:
            raise TruncatedRecording(
                f"{self.path}: recording was not cleanly closed (no summary: the recorder was killed or is still "
                f"writing); run `scythe recording repair {self.path}` to rebuild it from its complete chunks"
            )
        if not summary.chunk_indexes and summary.statistics.message_count:
            raise RecordingError(f"{self.path}: its messages are not in indexed chunks (not written by SCYTHE "
                                 f"Desktop); `scythe recording repair {self.path}` rewrites it")
        self._summary: Summary = summary
        self.metadata: dict[str, str] = {}
        for record in self._reader.iter_metadata():
            if record.name == schemas.METADATA_NAME:
                self.metadata = dict(record.metadata)
        _check_metadata(self.path, self.metadata)
        self.topics: dict[str, Channel] = {}
        self._packed: set[str] = set()
        for channel in summary.channels.values():
            if _check_schema(self.path, channel.topic, summary.schemas.get(channel.schema_id),
                             channel.message_encoding):
                self._packed.add(channel.topic)
            self.topics[channel.topic] = channel
        self._chunks = ChunkTable(self._file, summary)
        self._unpacker = Unpacker(self._fetch_packed)
        stats = summary.statistics
        self.start_ns: int = stats.message_start_time
        self.end_ns: int = stats.message_end_time
        self.message_counts: dict[str, int] = {
            summary.channels[cid].topic: n for cid, n in stats.channel_message_counts.items() if cid in summary.channels
        }

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def duration_s(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e9

    def report(self) -> RecordingReport:
        schema_names = {topic: self._summary.schemas[c.schema_id].name if c.schema_id else ""
                        for topic, c in self.topics.items()}
        return RecordingReport(self.path, True, self.start_ns, self.end_ns, dict(self.message_counts), schema_names,
                               dict(self.metadata), len(self._summary.chunk_indexes))

    def messages(
        self,
        topics: Iterable[str] | None = None,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        reverse: bool = False,
    ) -> Iterator[RecordedMessage]:
        """Messages of ``topics`` (all known ones by default) with ``start_ns <= log time <= end_ns``, in
        log-time order (file order among equal times), or backwards with ``reverse``."""
        wanted = [t for t in (topics if topics is not None else schemas.TOPICS) if t in self.topics]
        if not wanted or (start_ns is not None and end_ns is not None and start_ns > end_ns):
            return
        try:
            for m in self._chunks.messages(wanted, start_ns, end_ns, reverse):
                yield self._unpacked(m) if m.topic in self._packed else m
        except ChunkReadError as exc:  # one chunk refused (e.g. a decompression bomb); the others still read
            raise RecordingError(f"{self.path}: {exc}") from None
        except Exception as exc:  # corrupt input: see the module docstring
            raise _fail(self.path, exc) from exc

    def _unpacked(self, m: RecordedMessage) -> RecordedMessage:
        try:
            data = self._unpacker.unpack(m.topic, m.data, m.log_time_ns, m.sequence)
        except PackError as exc:
            raise RecordingError(f"{self.path}: {m.topic} message at {m.log_time_ns} ns {exc}") from None
        return replace(m, data=data)

    def _fetch_packed(self, topic: str, log_time_ns: int, sequence: int) -> bytes | None:
        """The packed bytes of the message a packed message refers to (by log time and sequence)."""
        found = self._chunks.messages([topic], log_time_ns, log_time_ns, False)
        return next((m.data for m in found if m.sequence == sequence), None)

    def latest(self, topics: Iterable[str], at_or_before_ns: int) -> RecordedMessage | None:
        """The last message of ``topics`` logged at or before a time (the last in file order on a tie)."""
        return next(self.messages(topics, end_ns=at_or_before_ns, reverse=True), None)


# ------------------------------------------------------------------------------------------- recovery


def _read_metadata(path: Path, stream: BinaryIO) -> dict[str, str]:
    """Our metadata record: written right after the header, so it precedes every chunk (or is missing)."""
    try:
        for record in StreamReader(stream, emit_chunks=True, record_size_limit=RECORD_SIZE_LIMIT).records:
            if isinstance(record, Metadata) and record.name == schemas.METADATA_NAME:
                return dict(record.metadata)
            if isinstance(record, Chunk):
                break
    except EndOfFile:
        pass
    except Exception as exc:  # corrupt input: see the module docstring
        raise _fail(path, exc) from exc
    return {}


class Recovery:
    """A front-to-back read of a possibly truncated recording, without its summary. Iterate it once.

    Iteration yields ``(channel, message)`` for every message of every complete chunk, in file order
    (a log-time sort would have to read everything first, and lose it all at the cut), and stops at
    the first incomplete or unreadable record; :attr:`problem` then says where and why. A chunk whose
    compressed bytes are complete but which cannot be decompressed within its declared size and the
    limit (a decompression bomb, a corrupt stream) is left out and named in :attr:`skipped`; reading goes
    on after it. Packed messages are yielded unpacked unless ``unpack=False`` (repair copies them as they
    are). Opening checks that the file is one of ours, so a foreign or newer file fails before anything is read.
    """

    def __init__(self, path: str | Path, *, unpack: bool = True) -> None:
        self.path = Path(path)
        self._unpacker = Unpacker(lambda *_ref: None) if unpack else None  # file order: references come first
        self._packed: set[int] = set()
        try:
            with open(self.path, "rb") as stream:
                _check_magic(self.path, stream)
                self.metadata = _read_metadata(self.path, stream)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot open ({exc.strerror or exc})") from None
        _check_metadata(self.path, self.metadata)
        self.channels: dict[int, tuple[Channel, Schema | None]] = {}
        self._schemas: dict[int, Schema] = {}
        self.problem = ""
        #: Chunks left out (refused by the decompression cap or corrupt inside) while the rest was read.
        self.skipped: list[str] = []
        self.message_count = 0

    def __iter__(self) -> Iterator[tuple[Channel, Message]]:
        with open(self.path, "rb") as stream:
            reader = StreamReader(stream, emit_chunks=True, validate_crcs=True, record_size_limit=RECORD_SIZE_LIMIT)
            records = reader.records
            try:
                while True:
                    start = stream.tell()
                    record = next(records, None)
                    if record is None:
                        return
                    if not isinstance(record, Chunk):
                        yield from self._take([record])
                        continue
                    try:
                        inner = chunk_records(record)
                    except ChunkError as exc:  # skip this chunk, keep every other one
                        self.skipped.append(f"chunk at byte {start} {exc}")
                        continue
                    yield from self._take(inner)
            except EndOfFile:
                self.problem = f"file ends at byte {stream.tell()} without its summary and footer (truncated)"
            except RecordingError:
                raise
            except Exception as exc:  # corrupt input: keep what came before it
                self.problem = f"unreadable after {self.message_count} messages ({type(exc).__name__}: {exc})"

    def _take(self, records: list[McapRecord]) -> Iterator[tuple[Channel, Message]]:
        """Schemas and channels are remembered; messages are yielded with their channel."""
        for record in records:
            if isinstance(record, Schema):
                self._schemas[record.id] = record
            elif isinstance(record, Channel):
                if record.schema_id != 0 and record.schema_id not in self._schemas:
                    raise ValueError(f"channel {record.id} names schema {record.schema_id}, which comes nowhere before")
                if record.id not in self.channels:
                    schema = self._schemas.get(record.schema_id)
                    if _check_schema(self.path, record.topic, schema, record.message_encoding):
                        self._packed.add(record.id)
                    self.channels[record.id] = (record, schema)
            elif isinstance(record, Message):
                known = self.channels.get(record.channel_id)
                if known is None:
                    raise ValueError(f"a message names channel {record.channel_id}, which comes nowhere before")
                if self._unpacker is not None and record.channel_id in self._packed:
                    record = replace(record, data=self._unpacker.unpack(known[0].topic, record.data, record.log_time,
                                                                         record.sequence))
                self.message_count += 1
                yield known[0], record


def inspect(path: str | Path) -> RecordingReport:
    """A report on any recording: through its summary when cleanly closed, else from a recovery read."""
    path = Path(path)
    try:
        with Recording(path) as rec:
            return rec.report()
    except TruncatedRecording:
        pass
    recovery = Recovery(path, unpack=False)
    counts: dict[str, int] = {}
    start, end = None, 0
    for channel, message in recovery:
        counts[channel.topic] = counts.get(channel.topic, 0) + 1
        start = message.log_time if start is None else min(start, message.log_time)
        end = max(end, message.log_time)
    schema_names = {c.topic: s.name if s else "" for c, s in recovery.channels.values()}
    problems = [recovery.problem or "no summary section (not cleanly closed)", *recovery.skipped]
    return RecordingReport(path, False, start or 0, end, counts, schema_names, recovery.metadata,
                           problem="; ".join(problems))


def repair(path: str | Path, out: str | Path, *, overwrite: bool = False) -> RecordingReport:
    """Rewrite every message :class:`Recovery` finds in ``path`` as a clean, indexed recording at ``out``
    (streaming: memory does not grow with the file)."""
    from mcap.writer import CompressionType, Writer

    from scythe_desktop.recording.defaults import CHUNK_SIZE

    path, out = Path(path), Path(out)
    if out.exists() and path.resolve() == out.resolve():
        raise RecordingError(f"{out}: repair writes a new file; choose an output other than the input")
    recovery = Recovery(path, unpack=False)  # packed messages copied as they are: their references stay valid
    try:
        stream = open(out, "wb" if overwrite else "xb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise RecordingError(f"{out}: cannot create ({exc.strerror or exc})") from None
    with stream:
        writer = Writer(stream, chunk_size=CHUNK_SIZE, compression=CompressionType.ZSTD)
        writer.start(profile=schemas.PROFILE, library="scythe-desktop repair")
        writer.add_metadata(schemas.METADATA_NAME, {**recovery.metadata, "repaired_from": str(path)})
        schema_ids: dict[int, int] = {}
        channel_ids: dict[int, int] = {}
        for channel, m in recovery:
            if channel.id not in channel_ids:
                schema = recovery.channels[channel.id][1]
                new_schema = 0
                if schema is not None:
                    if schema.id not in schema_ids:
                        schema_ids[schema.id] = writer.register_schema(schema.name, schema.encoding, schema.data)
                    new_schema = schema_ids[schema.id]
                channel_ids[channel.id] = writer.register_channel(channel.topic, channel.message_encoding,
                                                                  new_schema, dict(channel.metadata))
            writer.add_message(channel_ids[channel.id], m.log_time, m.data, m.publish_time, m.sequence)
        writer.finish()
    report = inspect(out)
    return replace(report, problem="left out " + "; ".join(recovery.skipped)) if recovery.skipped else report
