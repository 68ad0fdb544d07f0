"""The chunk table's merge for files whose chunks overlap in time (written by other tools): the same order as a
full sort by (log time, file order), forwards, backwards and inside a time range."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from mcap.writer import CompressionType, Writer

from scythe_desktop.recording import schemas
from scythe_desktop.recording.reader import Recording

TOPICS = ("/scythe/metrics", "/scythe/decisions")


def _write(path: Path, chunks: list[list[tuple[int, int]]]) -> list[tuple[int, int, bytes]]:
    """Chunks of (topic index, log time) messages; returns (time, file position, data) of each message."""
    out = []
    with path.open("wb") as f:
        w = Writer(f, chunk_size=1 << 30, compression=CompressionType.ZSTD)
        w.start(profile=schemas.PROFILE, library="test")
        w.add_metadata(schemas.METADATA_NAME, {"format": str(schemas.RECORDING_FORMAT)})
        ids = []
        for name in TOPICS:
            t = schemas.TOPICS[name]
            ids.append(w.register_channel(name, "protobuf", w.register_schema(t.schema_name, "protobuf",
                                                                                t.schema_data)))
        for chunk in chunks:
            for topic, time in chunk:
                data = f"{len(out)}".encode()
                w.add_message(ids[topic], time, data, time, len(out))
                out.append((time, len(out), data, topic))
            w.flush()
        w.finish()
    return [(t, n, d) for t, n, d, topic in out if topic == 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 30)), min_size=1, max_size=6),
                min_size=1, max_size=5),
       st.integers(0, 30), st.integers(0, 30))
def test_merged_order_matches_a_full_sort(chunks: list[list[tuple[int, int]]], a: int, b: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overlap.mcap"
        wanted = _write(path, chunks)
        lo, hi = min(a, b), max(a, b)
        with Recording(path) as rec:
            forward = [m.data for m in rec.messages([TOPICS[0]])]
            backward = [m.data for m in rec.messages([TOPICS[0]], reverse=True)]
            ranged = [m.data for m in rec.messages([TOPICS[0]], start_ns=lo, end_ns=hi)]
            latest = rec.latest([TOPICS[0]], hi)
    by_time = sorted(wanted)
    assert forward == [d for _, _, d in by_time]
    assert backward == [d for _, _, d in sorted(wanted, key=lambda m: (-m[0], -m[1]))]
    assert ranged == [d for t, _, d in by_time if lo <= t <= hi]
    inside = [m for m in wanted if m[0] <= hi]
    assert (latest.data if latest else None) == (max(inside)[2] if inside else None)
