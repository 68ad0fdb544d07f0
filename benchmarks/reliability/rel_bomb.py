"""Decompression bombs: small recordings whose middle chunk expands to hundreds of MiB.

:func:`write_bomb` writes a real SCYTHE recording (our metadata, a known topic) of three chunks; the middle
one's compressed bytes are replaced by a zstd or lz4 stream of ``expand_to`` zero bytes, made in 1 MiB
pieces so the writer never holds them. *Honest* bombs declare the expanded size in the chunk and its index
(the issue's 15 KB file asking for 400 MiB); *lying* ones declare the few bytes the chunk really had. A
child process (:func:`read_in_child`) opens the file, reads every message it can, repairs it, and reports
its own peak RSS (``VmHWM``), so the figure is the reader's alone. Knows MCAP bytes and processes.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lz4.frame
import zstandard

from benchmarks.reliability.rel_serve import child_env

TOPIC = "/scythe/metrics"
MARKER = b"BOMB-CHUNK"
MESSAGES_PER_CHUNK = 5
_MIB = 1 << 20


def bomb_stream(expand_to: int, compression: str) -> bytes:
    """``expand_to`` zero bytes compressed, without ever holding them."""
    zeros = bytes(_MIB)
    if compression == "zstd":
        zobj = zstandard.ZstdCompressor(level=19).compressobj()
        parts = [zobj.compress(zeros[: min(_MIB, expand_to - i)]) for i in range(0, expand_to, _MIB)]
        return b"".join(parts) + zobj.flush()
    lobj = lz4.frame.LZ4FrameCompressor(compression_level=16)
    parts = [lobj.begin()] + [lobj.compress(zeros[: min(_MIB, expand_to - i)]) for i in range(0, expand_to, _MIB)]
    return b"".join(parts) + lobj.flush()


class _Compressor:
    """Stands in for ``zstandard`` / ``lz4.frame`` inside mcap's writer: the marked chunk gets the bomb."""

    def __init__(self, real: Any, bomb: bytes) -> None:
        self._real, self._bomb = real, bomb

    def compress(self, data: bytes) -> bytes:
        return self._bomb if MARKER in data else self._real.compress(data)


@contextmanager
def _bomb_in_writer(compression: str, bomb: bytes) -> Iterator[None]:
    """mcap's writer calls ``zstandard.compress`` / ``lz4.frame.compress``: swap in the bomb for one chunk."""
    import mcap.writer

    name = "zstandard" if compression == "zstd" else "lz4"
    real = getattr(mcap.writer, name)
    shim = _Compressor(zstandard, bomb) if compression == "zstd" else SimpleNamespace(
        frame=_Compressor(lz4.frame, bomb))
    setattr(mcap.writer, name, shim)
    try:
        yield
    finally:
        setattr(mcap.writer, name, real)


def write_bomb(path: Path, *, expand_to: int, compression: str = "zstd", honest: bool = True) -> None:
    from mcap.writer import CompressionType, Writer

    from scythe_desktop.recording import schemas

    topic = schemas.TOPICS[TOPIC]
    kind = CompressionType.ZSTD if compression == "zstd" else CompressionType.LZ4
    with _bomb_in_writer(compression, bomb_stream(expand_to, compression)), path.open("wb") as f:
        writer = Writer(f, chunk_size=1 << 30, compression=kind, enable_crcs=False)  # we close chunks ourselves
        writer.start(profile=schemas.PROFILE, library="bomb")
        writer.add_metadata(schemas.METADATA_NAME, {"format": str(schemas.RECORDING_FORMAT)})
        channel = writer.register_channel(
            TOPIC, "protobuf", writer.register_schema(topic.schema_name, "protobuf", topic.schema_data))
        for c, payload in enumerate((b"before", MARKER, b"after")):
            for m in range(MESSAGES_PER_CHUNK):
                t = (c * MESSAGES_PER_CHUNK + m + 1) * 1_000_000
                writer.add_message(channel, t, payload, t, c * MESSAGES_PER_CHUNK + m)
            writer.flush()  # closes the chunk: one chunk per payload
        writer.finish()
    if honest:
        _declare(path, expand_to)


def _declare(path: Path, size: int) -> None:
    """Write ``size`` as the bomb chunk's uncompressed size, in the chunk record and in its index."""
    from mcap.reader import SeekingReader

    with path.open("rb") as f:
        summary = SeekingReader(f).get_summary()
    assert summary is not None
    index = sorted(summary.chunk_indexes, key=lambda c: c.chunk_start_offset)[1]
    data = bytearray(path.read_bytes())
    field = index.chunk_start_offset + 1 + 8 + 16  # opcode, length, start and end times
    data[field:field + 8] = struct.pack("<Q", size)
    prefix = struct.pack("<QQQQ", index.message_start_time, index.message_end_time, index.chunk_start_offset,
                         index.chunk_length)
    body = data.rindex(prefix)
    (length,) = struct.unpack_from("<Q", data, body - 8)
    data[body + length - 8:body + length] = struct.pack("<Q", size)  # uncompressed_size ends the record
    path.write_bytes(bytes(data))


def _read(path: Path) -> dict[str, Any]:
    """What the product's reader makes of the file: messages read, the refusal, what repair keeps."""
    from scythe_desktop.recording.reader import Recording, RecordingError, repair

    read: list[bytes] = []
    error = ""
    try:
        with Recording(path) as rec:
            read.extend(m.data for m in rec.messages([TOPIC]))
    except RecordingError as exc:
        error = str(exc)
    after = []
    with Recording(path) as rec:  # a seek past the bad chunk still works
        after = [m.data for m in rec.messages([TOPIC], start_ns=(2 * MESSAGES_PER_CHUNK + 1) * 1_000_000)]
    with tempfile.TemporaryDirectory() as tmp:
        report = repair(path, Path(tmp) / "repaired.mcap")
    return {
        "read_before_refusal": len(read), "error": error, "read_after_seek": len(after),
        "repaired_messages": report.message_count, "repair_note": report.problem,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM; ``ru_maxrss`` would include the parent's at fork time)."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return round(kb / 1024, 1)


def read_in_child(path: Path, timeout_s: float = 300.0) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.reliability.rel_bomb", str(path)], env=child_env(),
                          capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"bomb reader exited {proc.returncode}: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_bombs(tmp: Path, expand_to: int = 400 * _MIB) -> dict[str, Any]:
    """Four bombs (zstd and lz4, honest and lying); the peak RSS is the worst child's."""
    tmp.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Any] = {}
    for compression in ("zstd", "lz4"):
        for honest in (True, False):
            path = tmp / f"bomb-{compression}-{'honest' if honest else 'lying'}.mcap"
            write_bomb(path, expand_to=expand_to, compression=compression, honest=honest)
            cases[path.stem] = {"file_bytes": path.stat().st_size, **read_in_child(path)}
    kept = 2 * MESSAGES_PER_CHUNK
    return {
        "decompression_bomb_expands_to_mb": expand_to // _MIB,
        "decompression_bomb_file_kb": max(round(c["file_bytes"] / 1024, 1) for c in cases.values()),
        "decompression_bomb_peak_rss_mb": max(c["peak_rss_mb"] for c in cases.values()),
        "decompression_bombs_refused": sum(bool(c["error"]) for c in cases.values()),
        "decompression_bomb_messages_lost": sum(kept - c["repaired_messages"] for c in cases.values()),
        "decompression_bomb_cases": cases,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="read a recording as the product does; print figures as JSON")
    parser.add_argument("file", type=Path)
    json.dump(_read(parser.parse_args().file), sys.stdout)
