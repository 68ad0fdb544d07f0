"""R3: hostile input — mutated codec frames, malformed RPCs, malformed scenario TOML and recording files.

* :func:`fuzz_codec`: valid frames of every kind, then a seeded numpy mutator (bit flips, byte overwrites,
  header-field rewrites, truncation, extension, splices, pure noise). Every input must decode or raise
  :class:`~scythe_desktop.core.frames.FrameError`; anything else is a crash.
* :func:`fuzz_rpcs`: requests to a real orchestrator on loopback with a valid token: undecodable bytes,
  another message type's bytes, NaN/inf/huge numbers, unknown ids, over-long strings, unknown enum
  values and over-limit messages. Each is *meant* to be refused: INVALID_ARGUMENT or NOT_FOUND, or
  RESOURCE_EXHAUSTED for a message over the 1 MiB request limit (gRPC refuses those before any handler).
  A viewer streams throughout and must keep receiving frames.
* :func:`fuzz_scenarios` / :func:`fuzz_recordings`: mutated TOML text and mutated recording bytes must
  parse/read or raise ``ScenarioError`` / ``RecordingError``.

Every generator is seeded; the seed is in the figures. This module knows the public APIs it attacks.
"""

from __future__ import annotations

import math
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from scythe_desktop.core import frames as core_frames
from scythe_desktop.core.layout import DELTA_DTYPE, EDGE_DTYPE, DeltaOp, make_node_buffer

# ------------------------------------------------------------------------------------------------ codec


def _valid_frames(rng: np.random.Generator) -> list[bytes]:
    out: list[bytes] = []
    for seq in range(1, 41):
        n = int(rng.integers(0, 40))
        lon = rng.uniform(-180, 180, n)
        lat = rng.uniform(-90, 90, n)
        nodes = make_node_buffer(lon, lat, rng.uniform(0, 1, n), rng.uniform(0, 1, n), rng.uniform(1, 5, n))
        out.append(core_frames.encode_keyframe(nodes, seq))
        deltas = np.zeros(n, dtype=DELTA_DTYPE)
        deltas["node"] = rng.integers(0, 50, n)
        deltas["op"] = rng.choice([int(o) for o in DeltaOp], n)
        deltas["dx"] = rng.uniform(0, 1, n)
        deltas["dy"] = rng.uniform(0, 1, n)
        out.append(core_frames.encode_delta(deltas, seq))
        edges = np.zeros(n, dtype=EDGE_DTYPE)
        edges["src"] = rng.integers(0, 50, n)
        edges["dst"] = rng.integers(0, 50, n)
        edges["confidence"] = rng.uniform(0, 1, n)
        out.append(core_frames.encode_edges(edges, seq))
        side = int(rng.integers(1, 6))
        out.append(core_frames.encode_field(rng.uniform(0, 1, (side,) * 3).astype(np.float32), seq))
        out.append(core_frames.encode_grid(rng.uniform(0, 1, (side, side + 1)).astype(np.float32), seq))
    return out


_HEADER_FIELDS = [(4, 2), (6, 2), (8, 4), (12, 4), (16, 4), (20, 4), (24, 4), (28, 8), (32, 8), (40, 8)]
_SPECIAL = [0, 1, 0xFF, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 2**63, 2**64 - 1, 6, 24, 48]


def _mutate(buf: bytes, pool: list[bytes], rng: np.random.Generator) -> bytes:
    b = bytearray(buf)
    how = int(rng.integers(0, 8))
    if how == 0 and b:  # bit flips
        for i in rng.integers(0, len(b), int(rng.integers(1, 9))):
            b[int(i)] ^= 1 << int(rng.integers(0, 8))
    elif how == 1 and b:  # random bytes overwrite
        i = int(rng.integers(0, len(b)))
        n = int(rng.integers(1, 17))
        b[i : i + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    elif how == 2 and len(b) >= 48:  # one header field set to a special or random value
        off, size = _HEADER_FIELDS[int(rng.integers(0, len(_HEADER_FIELDS)))]
        value = _SPECIAL[int(rng.integers(0, len(_SPECIAL)))] if rng.random() < 0.6 else int(rng.integers(0, 2**31))
        b[off : off + size] = (value % (1 << (8 * size))).to_bytes(size, "little")
    elif how == 3:  # truncate
        b = b[: int(rng.integers(0, len(b) + 1))]
    elif how == 4:  # extend
        b += rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    elif how == 5:  # splice: this header, another frame's body
        other = pool[int(rng.integers(0, len(pool)))]
        cut = int(rng.integers(0, min(len(b), 64) + 1))
        b = b[:cut] + other[cut:]
    elif how == 6 and len(b) > 48:  # poison payload floats: NaN, inf, out of range
        k = (len(b) - 48) // 4
        if k:
            arr = np.frombuffer(bytes(b[48 : 48 + 4 * k]), dtype="<f4").copy()
            idx = rng.integers(0, k, int(rng.integers(1, 4)))
            arr[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf, 1e30, -5.0, 7.0], dtype=np.float32), idx.size)
            b[48 : 48 + 4 * k] = arr.tobytes()
    else:  # noise, sometimes behind a valid magic
        noise = rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8).tobytes()
        b = bytearray((b"SCYF" if rng.random() < 0.5 else b"") + noise)
    return bytes(b)


def fuzz_codec(count: int, seed: int) -> dict[str, Any]:
    """Mutated frames through ``core.frames.decode`` (and ``iter_frames`` on a stream of two)."""
    rng = np.random.default_rng(seed)
    pool = _valid_frames(rng)
    accepted = rejected = crashes = 0
    examples: list[str] = []
    t0 = time.perf_counter()
    for i in range(count):
        buf = _mutate(pool[i % len(pool)], pool, rng)
        try:
            if i % 16 == 0:
                for _ in core_frames.iter_frames(buf + pool[(i + 1) % len(pool)]):
                    pass
            else:
                core_frames.decode(buf)
            accepted += 1
        except core_frames.FrameError:
            rejected += 1
        except Exception as exc:  # the figure this fuzzer exists for
            crashes += 1
            if len(examples) < 5:
                examples.append(f"input {i}: {type(exc).__name__}: {exc} (bytes {buf[:64].hex()})")
    return {
        "frames": count,
        "frames_accepted": accepted,
        "frames_rejected_frame_error": rejected,
        "frames_crashed": crashes,
        "frame_crash_examples": examples,
        "frames_per_s": round(count / max(1e-9, time.perf_counter() - t0)),
        "seed": seed,
    }


# ------------------------------------------------------------------------------------------------- RPCs

_O = "/scythe.v1.Orchestrator/"
REFUSED = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND})


def _bad_lon(rng: random.Random) -> float:
    return rng.choice([math.nan, math.inf, -math.inf, 1e308, -1e308, 180.5, -181.0, 1e20])


def _bad_lat(rng: random.Random) -> float:
    return rng.choice([math.nan, math.inf, -math.inf, 1e308, -1e308, 91.0, -90.5, 1e20])


def _bad_id(rng: random.Random) -> int:
    return rng.choice([0, 2**31 - 1, 2**32 - 1, 10_000 + rng.randrange(10**6)])


def _long(rng: random.Random) -> str:
    return "x" * rng.choice([129, 200, 4096, 100_000])


def _malformed(rng: random.Random, pb: Any) -> tuple[str, bytes, str, frozenset[grpc.StatusCode]]:
    """One malformed request: (method, request bytes, what is wrong, accepted status codes)."""
    # Over-limit messages cost ~0.2 s each on loopback (1 MiB sent, then refused): 1 % of the cases.
    kind = 15 if rng.random() < 0.01 else rng.randrange(15)
    rid = rng.choice(["", _long(rng), "ok-" + str(rng.randrange(10**9))])
    bad_rid = rid == "" or len(rid) > 128
    if kind == 0:
        from scythe_desktop.orchestrator import auth

        method = rng.choice(sorted(m for m in auth.METHOD_ROLES if m.startswith(_O)))  # every RPC, new ones too
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        return method, b"\xff\xff" + garbage, "undecodable bytes", frozenset({grpc.StatusCode.INVALID_ARGUMENT})
    if kind == 1:  # another message type's bytes (wrong field types on the wire)
        other = pb.Guardrails(max_instances=rng.randrange(2**31), budget_per_hour=-1.0, allowed_regions=["x"] * 3)
        return _O + "DeployObserver", other.SerializeToString(), "wrong message type", REFUSED
    if kind in (2, 3):
        lon, lat = _bad_lon(rng), rng.uniform(-90, 90)
        if kind == 3:
            lon, lat = rng.uniform(-180, 180), _bad_lat(rng)
        req = pb.DeployRequest(request_id=rid or "r", lon=lon, lat=lat)
        return _O + "DeployObserver", req.SerializeToString(), f"deploy lon={lon} lat={lat}", REFUSED
    if kind == 4:
        req = pb.DeployRequest(request_id="t" + str(rng.randrange(10**9)), lon=-70, lat=40,
                               observer_type=rng.choice(["", "x"]) + _long(rng)[: rng.randrange(1, 300)])
        return _O + "DeployObserver", req.SerializeToString(), "unknown observer type", REFUSED
    if kind == 5:
        req = pb.RelocateRequest(request_id=rid or "r", observer_id=_bad_id(rng), lon=_bad_lon(rng), lat=0)
        return _O + "RelocateObserver", req.SerializeToString(), "relocate unknown id / bad lon", REFUSED
    if kind == 6:
        req = pb.IncreaseSamplingRequest(request_id=rid or "r", observer_id=_bad_id(rng))
        return _O + "IncreaseSamplingRate", req.SerializeToString(), "unknown observer", REFUSED
    if kind == 7:
        req = pb.FocusRequest(request_id=rid or "r", observer_id=_bad_id(rng), cluster_id=_bad_id(rng))
        return _O + "FocusCluster", req.SerializeToString(), "unknown observer/cluster", REFUSED
    if kind == 8:
        req = pb.DecommissionRequest(request_id=rid or "r", observer_id=_bad_id(rng))
        return _O + "DecommissionObserver", req.SerializeToString(), "unknown observer", REFUSED
    if kind == 9:
        req = pb.DeployRequest(request_id="", lon=-70, lat=40) if not bad_rid else pb.DeployRequest(
            request_id=rid, lon=-70, lat=40)
        return _O + "DeployObserver", req.SerializeToString(), "empty or over-long request id", REFUSED
    if kind == 10:
        req = pb.FieldRequest(kind=rng.choice([pb.COVERAGE, pb.OCCLUSION, pb.UNCERTAINTY]),
                              height=rng.choice([0, 2**31 - 1, 100_000]), width=rng.choice([0, 2**31 - 1, 9999]))
        return _O + "GetField", req.SerializeToString(), "grid size out of range", REFUSED
    if kind == 11:
        raw = pb.FieldRequest(kind=pb.VOLUME, size=rng.choice([0, 97, 2**31 - 1])).SerializeToString()
        if rng.random() < 0.5:
            raw = pb.FieldRequest(height=4, width=4).SerializeToString() + b"\x08" + bytes([rng.randrange(20, 127)])
        return _O + "GetField", raw, "volume size / unknown field kind", REFUSED
    if kind == 12:
        return (_O + "GetClusterSnapshot", pb.ClusterRequest(cluster_id=_bad_id(rng) or 2**31 - 1).SerializeToString(),
                "unknown cluster", REFUSED)
    if kind == 13:
        raw = pb.StreamRequest().SerializeToString() + b"\x10" + bytes([rng.randrange(30, 127)])
        return _O + "StreamClusterUpdates", raw, "unknown frame kind", REFUSED
    if kind == 14:
        rails = rng.choice([
            pb.Guardrails(max_instances=1, budget_per_hour=math.nan),
            pb.Guardrails(max_instances=1, budget_per_hour=-5.0),
            pb.Guardrails(max_instances=1, budget_per_hour=5.0, allowed_regions=["atlantis"]),
            pb.Guardrails(max_instances=1, budget_per_hour=5.0, forbidden_regions=[_long(rng)[:300]]),
            pb.Guardrails(max_instances=1, budget_per_hour=5.0, latency_zones=["nowhere"]),
        ])
        return _O + "SetGuardrails", rails.SerializeToString(), "bad guardrails", REFUSED
    # kind 15: a message over the 1 MiB request limit
    req = pb.DeployRequest(request_id="big", lon=-70, lat=40, observer_type="y" * (1024 * 1024 + rng.randrange(1000)))
    return _O + "DeployObserver", req.SerializeToString(), "oversized message", frozenset({
        grpc.StatusCode.RESOURCE_EXHAUSTED})


def fuzz_rpcs(count: int, seed: int) -> dict[str, Any]:
    from scythe_desktop.client.embedded import start_embedded
    from scythe_desktop.orchestrator import auth
    from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb

    rng = random.Random(seed)
    handle = start_embedded("tutorial", seed, tick_hz=20.0)
    authority = handle.orchestrator.authority
    token = authority.issue("fuzzer", auth.ADMIN, ttl_s=3600.0)
    metadata = (("authorization", f"Bearer {token}"),)
    codes: dict[str, int] = {}
    wrong: list[str] = []
    viewer = handle.client(seed=seed)
    seen = threading.Event()
    received = [0]
    stop_viewer = threading.Event()

    def watch(_frame: Any) -> None:
        received[0] += 1
        seen.set()

    viewer_thread = threading.Thread(target=lambda: viewer.stream(watch), daemon=True)
    viewer_thread.start()
    seen.wait(60)
    identity: Callable[[bytes], bytes] = lambda b: b  # noqa: E731
    t0 = time.perf_counter()
    try:
        with grpc.secure_channel(handle.target, handle.credentials) as channel:
            for _ in range(count):
                method, raw, what, allowed = _malformed(rng, pb)
                try:
                    if method.endswith("StreamClusterUpdates"):
                        call = channel.unary_stream(method, request_serializer=identity, response_deserializer=identity)
                        stream = call(raw, metadata=metadata, timeout=10)
                        next(iter(stream))
                        stream.cancel()
                    else:
                        channel.unary_unary(method, request_serializer=identity, response_deserializer=identity)(
                            raw, metadata=metadata, timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as exc:
                    code = exc.code()
                codes[code.name] = codes.get(code.name, 0) + 1
                if code not in allowed and len(wrong) < 10_000:
                    wrong.append(f"{method.rsplit('/', 1)[1]} ({what}) -> {code.name}")
        before = received[0]
        seen.clear()
        still_streaming = seen.wait(30) and received[0] > before
        with handle.client() as probe:
            still_answering = probe.world_info().scenario == "tutorial"
    finally:
        stop_viewer.set()
        viewer.close()
        viewer_thread.join(30)
        handle.stop()
    return {
        "rpcs": count,
        "rpcs_refused_correctly": count - len(wrong),
        "rpcs_wrong_status": len(wrong),
        "rpc_wrong_status_examples": sorted(set(wrong))[:10],
        "rpc_status_counts": codes,
        "rpcs_per_s": round(count / max(1e-9, time.perf_counter() - t0)),
        "server_still_serving": bool(still_streaming and still_answering),
        "seed": seed,
    }


# --------------------------------------------------------------------------------------- scenario TOML


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    how = rng.randrange(7)
    i = rng.randrange(len(lines))
    if how == 0:
        del lines[i]
    elif how == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif how == 2 and "=" in lines[i]:
        key = lines[i].split("=", 1)[0]
        value = rng.choice(["-1", "0", "1e400", "nan", "inf", "-inf", '"text"', "[]", "{}", "true", "99999999999999",
                            "[1, 2]", '"' + "z" * 300 + '"', "-1e-9"])
        lines[i] = f"{key}= {value}"
    elif how == 3:
        pos = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + rng.choice(["[", "]", "=", '"', "\\", "\x00", "é", "#"]) + lines[i][pos:]
    elif how == 4:
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    elif how == 5:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(i, rng.choice(["[[regions]]", "[constraints]", "[[observer_types]]", "[[clusters]]", "x = 1"]))
    return "\n".join(lines) + "\n"


def fuzz_scenarios(count: int, seed: int) -> dict[str, Any]:
    from scythe_desktop.engine.scenario import SCENARIO_DIR, ScenarioError, load_scenario, parse_scenario

    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in sorted(SCENARIO_DIR.glob("*.toml"))]
    accepted = rejected = crashes = 0
    examples: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            text = texts[i % len(texts)]
            for _ in range(rng.randrange(1, 4)):
                text = _mutate_text(text, rng)
            try:
                if i % 20 == 0:  # through a file too (encoding, reading)
                    path = Path(tmp) / f"s{i}.toml"
                    path.write_bytes(text.encode("utf-8", "surrogatepass") + (b"\xff" if i % 40 == 0 else b""))
                    load_scenario(path)
                else:
                    parse_scenario(text, f"fuzz-{i}")
                accepted += 1
            except ScenarioError:
                rejected += 1
            except Exception as exc:
                crashes += 1
                if len(examples) < 5:
                    examples.append(f"mutant {i}: {type(exc).__name__}: {exc}")
    return {"scenarios": count, "scenarios_accepted": accepted, "scenarios_rejected_scenario_error": rejected,
            "scenarios_crashed": crashes, "scenario_crash_examples": examples, "seed": seed}


# ------------------------------------------------------------------------------------------ recordings


def _sample_recording(path: Path) -> None:
    from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
    from scythe_desktop.protocol.wire import WireFrame
    from scythe_desktop.recording.writer import Recorder

    rng = np.random.default_rng(0)
    n = 50
    nodes = make_node_buffer(rng.uniform(-180, 180, n), rng.uniform(-90, 90, n), rng.uniform(0, 1, n),
                             rng.uniform(0, 1, n), rng.uniform(1, 5, n))
    with Recorder(path, metadata={"source": "fuzz"}, chunk_size=2048, flush_interval_s=0.0) as rec:
        t = 1_000_000_000
        rec.write_world_info(pb.WorldInfo(scenario="tutorial", seed=1), t)
        for seq in range(1, 40):
            t += 100_000_000
            if seq % 10 == 1:
                rec.write_frame(WireFrame(seq, pb.KEYFRAME, 0, seq, core_frames.encode_keyframe(nodes, seq)), t)
            else:
                deltas = np.zeros(3, dtype=DELTA_DTYPE)
                deltas["node"] = [1, 2, 3]
                deltas["op"] = int(DeltaOp.UPDATE)
                rec.write_frame(WireFrame(seq, pb.DELTA, seq - 1, seq, core_frames.encode_delta(deltas, seq)), t)


def fuzz_recordings(count: int, seed: int) -> dict[str, Any]:
    from scythe_desktop.recording.reader import Recording, RecordingError, inspect, repair

    rng = np.random.default_rng(seed)
    accepted = rejected = crashes = 0
    examples: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "good.mcap"
        _sample_recording(good)
        original = good.read_bytes()
        path = Path(tmp) / "mutant.mcap"
        out = Path(tmp) / "mutant.repaired.mcap"
        for i in range(count):
            path.write_bytes(_mutate(original, [original], rng))
            try:
                inspect(path)
                with Recording(path) as rec:
                    for _ in rec.messages():
                        pass
                accepted += 1
            except RecordingError:
                rejected += 1
                try:  # a refused file is either not ours at all or repairable
                    repair(path, out, overwrite=True)
                except RecordingError:
                    pass
                except Exception as exc:
                    crashes += 1
                    if len(examples) < 5:
                        examples.append(f"mutant {i} repair: {type(exc).__name__}: {exc}")
            except Exception as exc:
                crashes += 1
                if len(examples) < 5:
                    examples.append(f"mutant {i}: {type(exc).__name__}: {exc}")
    return {"recordings": count, "recordings_accepted": accepted, "recordings_rejected_recording_error": rejected,
            "recordings_crashed": crashes, "recording_crash_examples": examples, "seed": seed}
