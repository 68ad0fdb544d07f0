"""A load source for console benchmarks and tests: a ``scythe.v1`` stream of large keyframes at a fixed rate.

``python -m scythe_desktop.bench.keyframe_pump --nodes 100000 --hz 10`` serves ``StreamClusterUpdates``
on an ephemeral loopback port (local credentials, no auth) and prints ``PORT <n>`` on its first line; it
runs until killed or until its standard input closes. Every frame is a whole keyframe of ``--nodes``
nodes (the globe swarm drifting a little between frames), chunked and serialized once with
:mod:`scythe_desktop.protocol.wire` like the real orchestrator does. It runs in its own process so that the
console under test, not the load generator, is what competes for the measuring process's GIL. The real
world simulator cannot tick 100k nodes at 10 Hz on a small machine, which is why this exists.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import numpy as np

from scythe_desktop.core.frames import encode_keyframe
from scythe_desktop.core.layout import make_node_buffer
from scythe_desktop.protocol import wire
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb


def drifting_swarms(n: int, variants: int, seed: int) -> list[np.ndarray]:
    """``variants`` node buffers of ``n`` nodes, each a small rotation of the previous one."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180.0, 180.0, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    intensity, threat = rng.uniform(0, 1, n), rng.uniform(0, 2, n)
    return [make_node_buffer((lon + 0.5 * k + 180.0) % 360.0 - 180.0, lat, intensity=intensity, threat=threat)
            for k in range(variants)]


class KeyframePump:
    """Serves keyframes of ``swarms`` (cycled) at ``hz`` to every subscriber, each from its own seq."""

    def __init__(self, swarms: list[np.ndarray], hz: float) -> None:
        if not hz > 0:
            raise ValueError(f"hz must be > 0, got {hz}")
        self.swarms = swarms
        self.period = 1.0 / hz
        self.stopped = threading.Event()

    def stream(self, request: pb.StreamRequest, context: grpc.ServicerContext) -> Iterator[bytes]:
        seq = int(request.resume_from_seq) + 1
        deadline = time.monotonic()
        while context.is_active() and not self.stopped.is_set():
            nodes = self.swarms[seq % len(self.swarms)]
            yield from wire.serialize_chunks(seq, pb.KEYFRAME, encode_keyframe(nodes, seq), tick=seq)
            seq += 1
            deadline += self.period
            if self.stopped.wait(max(0.0, deadline - time.monotonic())):
                return

    def serve(self) -> tuple[grpc.Server, int]:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handler = grpc.unary_stream_rpc_method_handler(
            self.stream, request_deserializer=pb.StreamRequest.FromString, response_serializer=None
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("scythe.v1.Orchestrator", {"StreamClusterUpdates": handler}),)
        )
        port = server.add_secure_port("127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP))
        server.start()
        return server, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pump = KeyframePump(drifting_swarms(args.nodes, 4, args.seed), args.hz)
    server, port = pump.serve()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or kills us)
    pump.stopped.set()
    server.stop(0).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
