"""Read SCYTHE recordings: open and validate, iterate and seek through the index, recover truncated files.

:class:`Recording` opens a cleanly closed file through its summary (chunk and message indexes), so a
time range or a backwards search for the last keyframe reads only the chunks it needs. A file without
a summary (the writer was killed) is refused with :class:`TruncatedRecording`, whose message says to
run ``scythe recording repair``; :func:`recover` reads such a file front to back with the ``mcap``
package's non-seeking reader in file order and stops cleanly at the first incomplete record, which
yields every message of every complete chunk. :func:`inspect` reports what ``scythe recording check``
prints. Every problem, whatever the bytes, is a :class:`RecordingError` naming the file and what was
wrong: the mcap library raises a zoo of exception types on corrupt input, and they all stop here.
This module knows MCAP and our topics; it does not decode frames or know Qt.
"""

from __future__ import annotations

import bisect
import io
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from mcap.data_stream import ReadDataStream
from mcap.exceptions import EndOfFile
from mcap.reader import NonSeekingReader, SeekingReader
from mcap.records import Channel, Chunk, Message, Schema
from mcap.stream_reader import breakup_chunk
from mcap.summary import Summary

from scythe_desktop.net.recording import schemas

#: Larger records are corrupt: the writer's chunks are far smaller. Stops a mutated length from
#: making the reader allocate gigabytes.
RECORD_SIZE_LIMIT: Final = 256 * 1024 * 1024
_MAGIC: Final = b"\x89MCAP0\r\n"


class RecordingError(ValueError):
    """A file that cannot be read as a SCYTHE recording; the message names the file and the problem."""


class TruncatedRecording(RecordingError):
    """The file has no summary: its writer did not close it (killed, crashed, still running)."""


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    topic: str
    log_time_ns: int
    sequence: int
    data: bytes


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


def _check_schema(path: Path, topic: str, schema: Schema | None, encoding: str) -> None:
    """Topics we know must carry the schema we wrote; unknown topics are allowed (and ignored)."""
    known = schemas.TOPICS.get(topic)
    if known is None:
        return
    got = schema.name if schema is not None else "(none)"
    if schema is None or schema.name != known.schema_name or encoding != "protobuf":
        raise RecordingError(f"{path}: topic {topic} has unknown schema {got} ({encoding}); "
                             f"this build reads {known.schema_name} (protobuf)")


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
        self._summary: Summary = summary
        self.metadata: dict[str, str] = {}
        for record in self._reader.iter_metadata():
            if record.name == schemas.METADATA_NAME:
                self.metadata = dict(record.metadata)
        _check_metadata(self.path, self.metadata)
        self.topics: dict[str, Channel] = {}
        for channel in summary.channels.values():
            _check_schema(self.path, channel.topic, summary.schemas.get(channel.schema_id), channel.message_encoding)
            self.topics[channel.topic] = channel
        self._chunks = _ChunkTable(self._file, summary)
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
            if self._chunks.ordered:
                yield from self._chunks.messages(wanted, start_ns, end_ns, reverse)
                return
            for _schema, channel, message in self._reader.iter_messages(
                topics=wanted, starting_at=start_ns, ending_at=end_ns, reverse=reverse
            ):
                yield RecordedMessage(channel.topic, message.log_time, message.sequence, message.data)
        except Exception as exc:  # corrupt input: see the module docstring
            raise _fail(self.path, exc) from exc

    def latest(self, topics: Iterable[str], at_or_before_ns: int) -> RecordedMessage | None:
        """The last message of ``topics`` logged at or before a time (the last in file order on a tie)."""
        return next(self.messages(topics, end_ns=at_or_before_ns, reverse=True), None)


class _ChunkTable:
    """Reads messages chunk by chunk through the summary's chunk indexes, keeping the last few decoded.

    Our writer's chunks follow each other in log time (a chunk ends no later than the next begins), so
    the chunks holding a topic, in file order, give its messages in log-time order; a seek then costs a
    binary search and the one or two chunks it lands in, and the anchor, the state topics and the
    deltas after them mostly share those cached chunks. :attr:`ordered` is False for files whose chunks
    overlap in time; those are read through the ``mcap`` package's merging reader instead.
    """

    CACHE_CHUNKS: Final = 16

    def __init__(self, stream: BinaryIO, summary: Summary) -> None:
        self._stream = stream
        self._summary = summary
        self._chunks = sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset)
        self.ordered = all(a.message_end_time <= b.message_start_time
                           for a, b in zip(self._chunks, self._chunks[1:], strict=False))
        self._by_topic: dict[str, list[int]] = {}
        for i, chunk in enumerate(self._chunks):
            if not chunk.message_index_offsets:  # no index: the topic is only known by reading it
                self.ordered = False
            for channel_id in chunk.message_index_offsets:
                channel = summary.channels.get(channel_id)
                if channel is not None:
                    self._by_topic.setdefault(channel.topic, []).append(i)
        self._cache: OrderedDict[int, list[RecordedMessage]] = OrderedDict()

    def messages(self, topics: list[str], start_ns: int | None, end_ns: int | None,
                 reverse: bool) -> Iterator[RecordedMessage]:
        positions = sorted({i for t in topics for i in self._by_topic.get(t, ())})
        lo = 0 if start_ns is None else bisect.bisect_left(
            positions, start_ns, key=lambda i: self._chunks[i].message_end_time)
        hi = len(positions) if end_ns is None else bisect.bisect_right(
            positions, end_ns, key=lambda i: self._chunks[i].message_start_time)
        wanted = frozenset(topics)
        for i in reversed(positions[lo:hi]) if reverse else positions[lo:hi]:
            chunk = self._decoded(i)
            for m in reversed(chunk) if reverse else chunk:
                if m.topic in wanted and (start_ns is None or m.log_time_ns >= start_ns) and (
                        end_ns is None or m.log_time_ns <= end_ns):
                    yield m

    def _decoded(self, i: int) -> list[RecordedMessage]:
        """Chunk ``i``'s messages in log-time order (file order on ties), CRC-checked."""
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        index = self._chunks[i]
        if index.chunk_length > RECORD_SIZE_LIMIT:
            raise ValueError(f"chunk at byte {index.chunk_start_offset} claims {index.chunk_length} bytes")
        self._stream.seek(index.chunk_start_offset + 1 + 8)  # past the opcode and the record length
        chunk = Chunk.read(ReadDataStream(self._stream))
        channels = self._summary.channels
        records = [(r.log_time, n, r) for n, r in enumerate(breakup_chunk(chunk, validate_crc=True))
                   if isinstance(r, Message)]
        records.sort(key=lambda item: (item[0], item[1]))
        decoded = [RecordedMessage(channels[r.channel_id].topic, r.log_time, r.sequence, r.data)
                   for _, _, r in records]
        self._cache[i] = decoded
        if len(self._cache) > self.CACHE_CHUNKS:
            self._cache.popitem(last=False)
        return decoded


# ------------------------------------------------------------------------------------------- recovery


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a front-to-back read of a possibly truncated file found."""

    channels: dict[int, tuple[Channel, Schema | None]]
    messages: list[tuple[int, Message]]  # (channel id, message) in file order
    metadata: dict[str, str]
    problem: str  # "" when the read reached the end of a well-formed file


def recover(path: str | Path) -> Recovered:
    """Every message of every complete chunk, in file order, reading without the summary."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{path}: cannot open ({exc.strerror or exc})") from None
    stream = io.BytesIO(data)
    _check_magic(path, stream)
    channels: dict[int, tuple[Channel, Schema | None]] = {}
    messages: list[tuple[int, Message]] = []
    problem = ""
    # Metadata records sit outside chunks, so a second pass over the same bytes finds them.
    metadata: dict[str, str] = {}
    try:
        for record in NonSeekingReader(io.BytesIO(data), record_size_limit=RECORD_SIZE_LIMIT).iter_metadata():
            if record.name == schemas.METADATA_NAME:
                metadata = dict(record.metadata)
    except EndOfFile:
        pass
    except Exception as exc:  # corrupt input: see the module docstring
        raise _fail(path, exc) from exc
    _check_metadata(path, metadata)
    reader = NonSeekingReader(stream, validate_crcs=True, record_size_limit=RECORD_SIZE_LIMIT)
    try:
        # File order: a log-time sort would read everything first and lose it all at the cut.
        for schema, channel, message in reader.iter_messages(log_time_order=False):
            if channel.id not in channels:
                _check_schema(path, channel.topic, schema, channel.message_encoding)
                channels[channel.id] = (channel, schema)
            messages.append((channel.id, message))
    except EndOfFile:
        problem = f"file ends inside a record at byte {len(data)} (truncated)"
    except RecordingError:
        raise
    except Exception as exc:  # corrupt input: keep what came before it
        problem = f"unreadable after {len(messages)} messages ({type(exc).__name__}: {exc})"
    return Recovered(channels, messages, metadata, problem)


def inspect(path: str | Path) -> RecordingReport:
    """A report on any recording: through its summary when cleanly closed, else from a recovery read."""
    path = Path(path)
    try:
        with Recording(path) as rec:
            return rec.report()
    except TruncatedRecording:
        pass
    found = recover(path)
    counts: dict[str, int] = {}
    times = [m.log_time for _, m in found.messages]
    for cid, _ in found.messages:
        topic = found.channels[cid][0].topic
        counts[topic] = counts.get(topic, 0) + 1
    schema_names = {c.topic: s.name if s else "" for c, s in found.channels.values()}
    return RecordingReport(path, False, min(times, default=0), max(times, default=0), counts, schema_names,
                           found.metadata, problem=found.problem or "no summary section (not cleanly closed)")


def repair(path: str | Path, out: str | Path, *, overwrite: bool = False) -> RecordingReport:
    """Rewrite what :func:`recover` finds in ``path`` as a clean, indexed recording at ``out``."""
    from mcap.writer import CompressionType, Writer

    from scythe_desktop.net.recording.defaults import CHUNK_SIZE

    path, out = Path(path), Path(out)
    if path.resolve() == out.resolve():
        raise RecordingError(f"{out}: repair writes a new file; choose an output other than the input")
    found = recover(path)
    try:
        stream = open(out, "wb" if overwrite else "xb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise RecordingError(f"{out}: cannot create ({exc.strerror or exc})") from None
    with stream:
        writer = Writer(stream, chunk_size=CHUNK_SIZE, compression=CompressionType.ZSTD)
        writer.start(profile=schemas.PROFILE, library="scythe-desktop repair")
        writer.add_metadata(schemas.METADATA_NAME, {**found.metadata, "repaired_from": str(path)})
        schema_ids: dict[int, int] = {}
        channel_ids: dict[int, int] = {}
        for cid, (channel, schema) in found.channels.items():
            new_schema = 0
            if schema is not None:
                if schema.id not in schema_ids:
                    schema_ids[schema.id] = writer.register_schema(schema.name, schema.encoding, schema.data)
                new_schema = schema_ids[schema.id]
            channel_ids[cid] = writer.register_channel(channel.topic, channel.message_encoding, new_schema,
                                                       dict(channel.metadata))
        for cid, m in found.messages:
            writer.add_message(channel_ids[cid], m.log_time, m.data, m.publish_time, m.sequence)
        writer.finish()
    return inspect(out)

