"""Stream admission: who may hold one of the server's long-lived stream slots, so nobody can take them all.

The sync gRPC server gives every open stream a worker thread for its whole life. The pool has
``StreamLimits.total`` threads for streams plus headroom that streams never get, so unary calls (``Refresh``,
``GetWorldInfo``, actions) always find a thread. Every response-streaming call — frames, reflection, health
``Watch`` — takes a slot before its handler runs and gives it back when the call ends, and is refused at once
with RESOURCE_EXHAUSTED (naming the limit) when it would pass one of:

* ``total``: slots in all;
* ``per_identity``: slots one token subject may hold (one viewer cannot take every slot);
* ``reserved``: the last slots only an operator or admin may take (many viewers cannot lock an admin out);
* ``anonymous``: slots for calls without a token (only health ``Watch``; reflection needs a token);
* ``per_peer``: slots one remote host may hold, whatever its identities. Loopback and Unix-socket peers are
  exempt: on this machine every client is the same host, and identities tell them apart.

Knows peers, subjects and roles, not what the streams carry.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc

from scythe_desktop.protocol.transport import is_loopback

PRIVILEGED = frozenset({"operator", "admin"})


@dataclass(frozen=True, slots=True)
class StreamLimits:
    total: int
    per_identity: int
    per_peer: int
    anonymous: int
    reserved: int

    @classmethod
    def for_slots(cls, total: int) -> StreamLimits:
        """The defaults for a server with ``total`` stream slots (``--max-subscribers``)."""
        per_identity = max(2, total // 4)
        return cls(total, per_identity, max(per_identity, total // 2), max(1, min(8, total // 8)), min(4, total // 8))


@dataclass(frozen=True, slots=True)
class Caller:
    """Who opens a stream: ``subject``/``role`` empty for a call without a token."""

    subject: str
    role: str


def peer_host(peer: str) -> str:
    """The host part of a gRPC peer string (``ipv4:1.2.3.4:5``, ``ipv6:[::1]:5``, ``unix:/p``); ``unix`` for sockets."""
    kind, _, rest = peer.partition(":")
    if kind == "unix" or not rest:
        return "unix"
    if kind == "ipv6" and rest.startswith("["):
        return rest[1 : rest.find("]")]
    return rest.rpartition(":")[0] or rest


class _Slot:
    """One admitted stream; releasing twice (end of the generator and the call's callback) counts once."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


class StreamAdmission:
    def __init__(self, limits: StreamLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._total = 0
        self._unprivileged = 0
        self._anonymous = 0
        self._by_subject: Counter[str] = Counter()
        self._by_peer: Counter[str] = Counter()
        self.refused = 0

    @property
    def open_streams(self) -> int:
        with self._lock:
            return self._total

    def admit(self, caller: Caller, peer: str) -> _Slot | str:
        """A slot, or the reason there is none for this caller."""
        host = peer_host(peer)
        counted_peer = host != "unix" and not is_loopback(host)
        with self._lock:
            reason = self._refusal(caller, host, counted_peer)
            if reason is not None:
                self.refused += 1
                return reason
            self._count(caller, host, counted_peer, +1)
        return _Slot(lambda: self._uncount(caller, host, counted_peer))

    def _refusal(self, caller: Caller, host: str, counted_peer: bool) -> str | None:
        lim = self.limits
        if self._total >= lim.total:
            return f"stream slots are full: at most {lim.total} streams at once"
        if not caller.subject:
            if self._anonymous >= lim.anonymous:
                return f"at most {lim.anonymous} streams without a token at once"
        elif self._by_subject[caller.subject] >= lim.per_identity:
            return f"identity {caller.subject!r} already holds {lim.per_identity} streams, the most one identity may"
        if caller.role not in PRIVILEGED and self._unprivileged >= lim.total - lim.reserved:
            return f"the last {lim.reserved} stream slots are kept for operators and admins"
        if counted_peer and self._by_peer[host] >= lim.per_peer:
            return f"peer {host} already holds {lim.per_peer} streams, the most one host may"
        return None

    def _count(self, caller: Caller, host: str, counted_peer: bool, step: int) -> None:
        self._total += step
        if caller.role not in PRIVILEGED:
            self._unprivileged += step
        if not caller.subject:
            self._anonymous += step
        else:
            _step(self._by_subject, caller.subject, step)
        if counted_peer:
            _step(self._by_peer, host, step)

    def _uncount(self, caller: Caller, host: str, counted_peer: bool) -> None:
        with self._lock:
            self._count(caller, host, counted_peer, -1)

    def guard(self, handler: grpc.RpcMethodHandler, caller: Caller) -> grpc.RpcMethodHandler:
        """``handler`` (response-streaming ones) taking a slot for its lifetime; others unchanged."""
        if not handler.response_streaming:
            return handler
        bidi = handler.request_streaming
        behaviour = handler.stream_stream if bidi else handler.unary_stream

        def admitted(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            slot = self.admit(caller, context.peer())
            if isinstance(slot, str):
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, slot)
                return
            context.add_callback(slot.release)  # the call ended, even if the generator is never closed
            try:
                yield from behaviour(request, context)
            finally:
                slot.release()

        make = grpc.stream_stream_rpc_method_handler if bidi else grpc.unary_stream_rpc_method_handler
        return make(
            admitted, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _step(counter: Counter[str], key: str, step: int) -> None:
    counter[key] += step
    if counter[key] <= 0:
        del counter[key]  # keeps the counters as small as the open streams


__all__ = ["Caller", "StreamAdmission", "StreamLimits", "peer_host"]
