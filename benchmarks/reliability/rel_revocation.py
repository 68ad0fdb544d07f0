"""Revoked or expired credentials: how many does a real server still accept?

An orchestrator on loopback (state directory, key file, access tokens of one second) and, per round, a fresh
set of credentials put through every way a credential should die: an access token past its expiry (a unary
call; a stream opened with it and still running past it), a subject revoked with ``scythe auth revoke
--subject`` (its grant, session refresh token, access token and an open stream), a grant revoked with
``--token-id``, a spent rotating refresh token presented again (and what that revokes), and after a restart of
the server every token revoked before it. Each attempt that gets through counts in
``revoked_or_expired_credentials_accepted``; each case's live control must get through. Revocations from the
command line are given the ledger's reload interval before the attempt (the documented delay). Knows gRPC.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

import grpc

from benchmarks.reliability.rel_serve import local_credentials

#: A stream still delivering this long after its token's expiry counts as accepted (the hub re-checks twice
#: a second; a tick or two of slack).
STREAM_SLACK_S = 1.5


class _Probe:
    def __init__(self, target: str) -> None:
        from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
        from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2_grpc as pb_grpc

        self.pb = pb
        self.channel = grpc.secure_channel(target, local_credentials())
        self.auth = pb_grpc.AuthStub(self.channel)
        self.orch = pb_grpc.OrchestratorStub(self.channel)

    @staticmethod
    def _md(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)

    def refresh(self, token: str) -> Any:
        """The reply, or None when refused (Any: the reply's fields are read without a check by the cases
        that must succeed, whose failure is then loud)."""
        try:
            return self.auth.Refresh(self.pb.RefreshRequest(), metadata=self._md(token), timeout=10)
        except grpc.RpcError:
            return None

    def call(self, access: str) -> bool:
        try:
            self.orch.GetWorldInfo(self.pb.WorldInfoRequest(), metadata=self._md(access), timeout=10)
            return True
        except grpc.RpcError:
            return False

    def open_stream(self, access: str) -> Any:
        call = self.orch.StreamClusterUpdates(self.pb.StreamRequest(), metadata=self._md(access))
        next(iter(call))
        return call

    @staticmethod
    def streams_past(call: Any, dead_at: float) -> bool:
        """True if the stream still delivers a frame STREAM_SLACK_S after ``dead_at`` (monotonic)."""
        try:
            for _ in call:
                if time.monotonic() > dead_at + STREAM_SLACK_S:
                    call.cancel()
                    return True
        except grpc.RpcError as exc:
            return exc.code() is not grpc.StatusCode.UNAUTHENTICATED
        return False


def _serve(state: Path, key: Path) -> Any:
    from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig

    orch = Orchestrator(ServerConfig(scenario="tutorial", tick_hz=20.0, state_dir=state, auth_key_file=key,
                                     access_ttl_s=1.0, policy="none"))
    orch.start()
    return orch


def _cli(*argv: str) -> int:
    """``scythe …`` in this process, its lines kept off stdout (the suite prints its JSON there)."""
    from scythe_desktop.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        return main(list(argv))


def _round(orch: Any, state: Path, n: int, accepted: list[str], controls: list[bool]) -> list[tuple[str, str]]:
    from scythe_desktop.orchestrator import auth
    from scythe_desktop.orchestrator.token_ledger import RELOAD_S

    p = _Probe(orch.target)
    issue = orch.issue_refresh_token

    def check(case: str, got_through: bool) -> None:
        if got_through:
            accepted.append(case)

    # Expiry: unary after expiry; a stream opened before it, read past it.
    first = p.refresh(issue(f"expiring-{n}", auth.VIEWER))
    stream = p.open_stream(first.access_token)
    controls.append(p.call(first.access_token))
    dead_at = time.monotonic() + (first.expires_at_unix - time.time())
    check("stream past expiry", p.streams_past(stream, dead_at))
    check("access token past expiry", p.call(first.access_token))
    # Revocation of a subject, from the command line, while a stream runs.
    grant = issue(f"revoked-{n}", auth.OPERATOR)
    session = p.refresh(grant)
    stream = p.open_stream(session.access_token)
    controls.append(p.call(session.access_token))
    assert _cli("auth", "revoke", "--state", str(state), "--subject", f"revoked-{n}") == 0
    revoked_at = time.monotonic()
    time.sleep(RELOAD_S + 0.05)  # the documented delay before a revocation from another process is seen
    check("grant of a revoked subject", p.refresh(grant) is not None)
    check("session refresh token of a revoked subject", p.refresh(session.refresh_token) is not None)
    check("access token of a revoked subject", p.call(session.access_token))
    check("stream of a revoked subject", p.streams_past(stream, revoked_at + RELOAD_S))
    # Revocation of one grant by id.
    by_id = issue(f"by-id-{n}", auth.VIEWER)
    kept = issue(f"kept-{n}", auth.VIEWER)
    assert _cli("auth", "revoke", "--state", str(state), "--token-id",
                orch.authority.verify(by_id, kind="refresh").token_id) == 0
    time.sleep(RELOAD_S + 0.05)
    check("grant revoked by token id", p.refresh(by_id) is not None)
    controls.append(p.refresh(kept) is not None)
    # Reuse of a spent rotating refresh token, and what the reuse revokes.
    reused = issue(f"reused-{n}", auth.VIEWER)
    one = p.refresh(reused)
    two = p.refresh(one.refresh_token)
    three = p.refresh(two.refresh_token)
    controls.append(three is not None)
    check("spent rotating refresh token", p.refresh(one.refresh_token) is not None)
    check("newest refresh token after reuse", p.refresh(three.refresh_token) is not None)
    check("grant after reuse", p.refresh(reused) is not None)
    p.channel.close()
    # What must stay dead across a restart.
    return [("grant of a revoked subject (after restart)", grant), ("grant revoked by id (after restart)", by_id),
            ("grant after reuse (after restart)", reused)]


def run_revocation(workdir: Path, rounds: int) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    state, key = workdir / "state", workdir / "auth.key"
    accepted: list[str] = []
    controls: list[bool] = []
    dead: list[tuple[str, str]] = []
    orch = _serve(state, key)
    try:
        for n in range(rounds):
            dead += _round(orch, state, n, accepted, controls)
    finally:
        orch.stop()
    orch = _serve(state, key)
    try:
        p = _Probe(orch.target)
        for case, token in dead:
            if p.refresh(token) is not None:
                accepted.append(case)
        controls.append(p.refresh(orch.issue_refresh_token("after-restart", "viewer")) is not None)
        p.channel.close()
    finally:
        orch.stop()
    attempts = rounds * 10 + len(dead)
    return {
        "revoked_or_expired_credentials_accepted": len(accepted),
        "revoked_or_expired_attempts": attempts,
        "revoked_or_expired_accepted_examples": sorted(set(accepted))[:5],
        "credential_controls": len(controls),
        "credential_controls_accepted": sum(controls),
    }


__all__ = ["run_revocation"]
