"""Item 9: a chunk that asks for more than the limit, or holds more than it declares, is refused before or
while decompressing, naming the chunk; every other chunk still reads, and repair keeps them all."""

from __future__ import annotations

import zlib
from pathlib import Path

import lz4.frame
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from mcap.records import Chunk, Message

from benchmarks.reliability.rel_bomb import MESSAGES_PER_CHUNK, TOPIC, bomb_stream, write_bomb
from scythe_desktop.recording.chunks import CHUNK_SIZE_LIMIT, ChunkError, chunk_records, decompress
from scythe_desktop.recording.reader import Recording, RecordingError, inspect, repair

MIB = 1 << 20


@pytest.mark.parametrize("compression", ["zstd", "lz4"])
@pytest.mark.parametrize("honest", [True, False])
def test_a_bomb_chunk_is_refused_by_name_and_nothing_else_is_lost(tmp_path: Path, compression: str,
                                                                  honest: bool) -> None:
    path = tmp_path / "bomb.mcap"
    write_bomb(path, expand_to=CHUNK_SIZE_LIMIT + MIB, compression=compression, honest=honest)
    seen: list[bytes] = []
    with Recording(path) as rec, pytest.raises(RecordingError) as info:
        seen.extend(m.data for m in rec.messages([TOPIC]))
    message = str(info.value)
    assert "chunk 1 (at byte" in message
    assert ("refused before decompressing" if honest else "holds more") in message
    assert seen == [b"before"] * MESSAGES_PER_CHUNK
    with Recording(path) as rec:
        after = [m.data for m in rec.messages([TOPIC], start_ns=(2 * MESSAGES_PER_CHUNK + 1) * 1_000_000)]
        backwards = rec.latest([TOPIC], 10**12)
    assert after == [b"after"] * MESSAGES_PER_CHUNK
    assert backwards is not None and backwards.data == b"after"
    report = repair(path, tmp_path / "repaired.mcap")
    assert report.message_count == 2 * MESSAGES_PER_CHUNK
    assert report.problem.startswith("left out chunk at byte")
    with Recording(tmp_path / "repaired.mcap") as clean:
        assert [m.data for m in clean.messages([TOPIC])] == [b"before"] * 5 + [b"after"] * 5


def test_a_truncated_file_with_a_bomb_reports_the_left_out_chunk(tmp_path: Path) -> None:
    path = tmp_path / "bomb.mcap"
    write_bomb(path, expand_to=CHUNK_SIZE_LIMIT + MIB, honest=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])  # no summary any more: the recovery path
    report = inspect(path)
    assert not report.cleanly_closed
    assert report.message_count == 2 * MESSAGES_PER_CHUNK
    assert "left out" not in report.problem and "refused before decompressing" in report.problem


def _chunk(records: bytes, compression: str, declared: int | None = None) -> Chunk:
    data = {"": records, "zstd": zstandard.compress(records), "lz4": lz4.frame.compress(records)}[compression]
    return Chunk(compression=compression, data=data, message_start_time=0, message_end_time=0,
                 uncompressed_crc=zlib.crc32(records), uncompressed_size=len(records) if declared is None else declared)


def test_a_well_formed_chunk_decodes_exactly() -> None:
    from mcap.data_stream import RecordBuilder

    builder = RecordBuilder()
    Message(channel_id=1, sequence=7, log_time=5, publish_time=5, data=b"payload").write(builder)
    records = builder.end()
    for compression in ("", "zstd", "lz4"):
        (m,) = chunk_records(_chunk(records, compression))
        assert isinstance(m, Message) and m.data == b"payload" and m.sequence == 7
    with pytest.raises(ChunkError, match="holds 3"):
        decompress(_chunk(b"abc", "zstd", declared=10))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["", "zstd", "lz4", "brotli"]), st.binary(max_size=400),
       st.one_of(st.none(), st.integers(min_value=0, max_value=2**40)), st.booleans())
def test_any_chunk_decodes_or_raises_chunk_error(compression: str, payload: bytes, declared: int | None,
                                                 expand: bool) -> None:
    """Random records (the declared size often right, so the parser is reached) in any compression."""
    if compression in ("zstd", "lz4"):
        data = bomb_stream(4096, compression) if expand else _chunk(payload, compression).data
    else:
        data = payload
    size = (4096 if expand and compression in ("zstd", "lz4") else len(payload)) if declared is None else declared
    chunk = Chunk(compression=compression, data=data, message_start_time=0, message_end_time=0,
                  uncompressed_crc=0, uncompressed_size=size)
    try:
        records = chunk_records(chunk)
    except ChunkError:
        return
    assert sum(len(getattr(r, "data", b"")) for r in records) <= size
