"""Item 10 against real servers on loopback: rotating refresh tokens with reuse detection, revocation by subject
and by token id (``scythe auth revoke``, persisted), streams that end when their token expires or is revoked,
and restarts that neither leave old tokens valid nor break a client's session."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from scythe_desktop.cli import main
from scythe_desktop.cli.serve import _write_tokens
from scythe_desktop.client.grpc_client import Backoff, ConnectionState, OrchestratorClient, OrchestratorError
from scythe_desktop.orchestrator import auth
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2 as pb
from scythe_desktop.protocol.proto.scythe.v1 import orchestrator_pb2_grpc as pb_grpc

LOCAL = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(state: Path, key: Path, port: int = 0, **extra: object) -> Orchestrator:
    orch = Orchestrator(ServerConfig(scenario="tutorial", tick_hz=20.0, state_dir=state, auth_key_file=key,
                                     port=port, policy="none", **extra))  # type: ignore[arg-type]
    orch.authority.ledger.reload_s = 0.0  # see `scythe auth revoke` from the test at once
    orch.start()
    return orch


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Orchestrator]:
    orch = _serve(tmp_path / "state", tmp_path / "auth.key")
    yield orch
    orch.stop()


def _refresh(orch: Orchestrator, token: str) -> pb.AccessToken:
    with grpc.secure_channel(orch.target, LOCAL) as channel:
        reply: pb.AccessToken = pb_grpc.AuthStub(channel).Refresh(
            pb.RefreshRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10)
    return reply


def _refused(orch: Orchestrator, token: str) -> str:
    with pytest.raises(grpc.RpcError) as info:
        _refresh(orch, token)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    return info.value.details() or ""


def _world_info(orch: Orchestrator, access: str) -> pb.WorldInfo:
    with grpc.secure_channel(orch.target, LOCAL) as channel:
        info: pb.WorldInfo = pb_grpc.OrchestratorStub(channel).GetWorldInfo(
            pb.WorldInfoRequest(), metadata=(("authorization", f"Bearer {access}"),), timeout=10)
    return info


def test_refresh_tokens_rotate_and_a_reused_one_revokes_session_and_grant(server: Orchestrator) -> None:
    grant = server.issue_refresh_token("alice", auth.OPERATOR)
    first = _refresh(server, grant)
    second = _refresh(server, first.refresh_token)
    third = _refresh(server, second.refresh_token)
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert _world_info(server, third.access_token).scenario == "tutorial"
    # Two generations back is no lost reply: someone else has a copy.
    assert "reuse detected" in _refused(server, first.refresh_token)
    assert "revoked" in _refused(server, third.refresh_token)
    assert "revoked" in _refused(server, grant)
    with pytest.raises(grpc.RpcError) as info:
        _world_info(server, third.access_token)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_the_previous_generation_is_accepted_once_more_after_a_lost_reply(server: Orchestrator) -> None:
    first = _refresh(server, server.issue_refresh_token("bob", auth.VIEWER))
    _refresh(server, first.refresh_token)  # its reply "lost"
    again = _refresh(server, first.refresh_token)
    assert _world_info(server, again.access_token).scenario == "tutorial"
    _refresh(server, again.refresh_token)


def test_scythe_auth_revoke_by_subject_and_by_token_id_takes_effect_while_serving(server: Orchestrator,
                                                                                tmp_path: Path) -> None:
    state = tmp_path / "state"
    carol = server.issue_refresh_token("carol", auth.VIEWER)
    dave = server.issue_refresh_token("dave", auth.VIEWER)
    carol_access = _refresh(server, carol).access_token
    dave_access = _refresh(server, dave).access_token
    assert main(["auth", "revoke", "--state", str(state), "--subject", "carol"]) == 0
    assert "revoked" in _refused(server, carol)
    with pytest.raises(grpc.RpcError):
        _world_info(server, carol_access)
    assert _world_info(server, dave_access).scenario == "tutorial"  # only carol
    fresh = server.issue_refresh_token("carol", auth.VIEWER)  # issued after the revocation: good
    assert _refresh(server, fresh).access_token
    dave_id = server.authority.verify(dave, kind="refresh").token_id
    assert main(["auth", "revoke", "--state", str(state), "--token-id", dave_id]) == 0
    assert "revoked" in _refused(server, dave)
    with pytest.raises(grpc.RpcError):
        _world_info(server, dave_access)  # issued under the revoked grant


def test_scythe_auth_list_shows_grants_and_sessions(server: Orchestrator, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    grant = server.issue_refresh_token("erin", auth.ADMIN)
    _refresh(server, grant)
    assert main(["auth", "list", "--state", str(tmp_path / "state")]) == 0
    out = capsys.readouterr().out
    assert server.authority.verify(grant, kind="refresh").token_id in out and "erin" in out
    assert grant not in out  # ids, never tokens
    assert main(["auth", "list", "--state", str(tmp_path / "nowhere")]) == 2


def test_revocations_survive_a_restart(tmp_path: Path) -> None:
    orch = _serve(tmp_path / "state", tmp_path / "auth.key")
    grant = orch.issue_refresh_token("frank", auth.OPERATOR)
    orch.authority.ledger.revoke_subject("frank")
    orch.stop()
    again = _serve(tmp_path / "state", tmp_path / "auth.key")
    try:
        assert "revoked" in _refused(again, grant)
    finally:
        again.stop()


def test_restarts_keep_valid_token_files_and_revoke_the_ones_they_replace(server: Orchestrator,
                                                                         tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    _write_tokens(tokens, server)
    before = {p.name: p.read_text() for p in tokens.iterdir()}
    _write_tokens(tokens, server)  # a restart: nothing new to leak
    assert {p.name: p.read_text() for p in tokens.iterdir()} == before
    server.authority.ledger.revoke_subject("cli-operator")
    _write_tokens(tokens, server)
    assert (tokens / "operator.token").read_text() != before["operator.token"]
    assert (tokens / "viewer.token").read_text() == before["viewer.token"]
    assert "revoked" in _refused(server, before["operator.token"].strip())
    assert _refresh(server, (tokens / "operator.token").read_text().strip()).access_token


def test_a_stream_ends_when_its_access_token_expires(tmp_path: Path) -> None:
    orch = _serve(tmp_path / "state", tmp_path / "auth.key", access_ttl_s=1.0)
    try:
        access = _refresh(orch, orch.issue_refresh_token("gina", auth.VIEWER)).access_token
        with grpc.secure_channel(orch.target, LOCAL) as channel:
            call = pb_grpc.OrchestratorStub(channel).StreamClusterUpdates(
                pb.StreamRequest(), metadata=(("authorization", f"Bearer {access}"),))
            with pytest.raises(grpc.RpcError) as info:
                for _ in call:
                    pass
        assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "expired" in (info.value.details() or "")
    finally:
        orch.stop()


def test_a_stream_ends_when_its_subject_is_revoked(server: Orchestrator) -> None:
    access = _refresh(server, server.issue_refresh_token("hank", auth.VIEWER)).access_token
    with grpc.secure_channel(server.target, LOCAL) as channel:
        call = pb_grpc.OrchestratorStub(channel).StreamClusterUpdates(
            pb.StreamRequest(), metadata=(("authorization", f"Bearer {access}"),))
        next(iter(call))  # streaming
        server.authority.ledger.revoke_subject("hank")
        with pytest.raises(grpc.RpcError) as info:
            for _ in call:
                pass
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED and "revoked" in (info.value.details() or "")


def test_the_client_reauthenticates_its_stream_and_loses_no_frame(tmp_path: Path) -> None:
    orch = _serve(tmp_path / "state", tmp_path / "auth.key", access_ttl_s=1.0)
    seqs: list[int] = []
    done = threading.Event()
    states: list[ConnectionState] = []
    client = OrchestratorClient(orch.target, LOCAL, refresh_token=orch.issue_refresh_token("ivy", auth.VIEWER),
                                backoff=Backoff(initial_s=0.01, cap_s=0.05), refresh_margin_s=0.0,
                                on_state=lambda s, _d: states.append(s))

    def on_frame(frame: object) -> None:
        seqs.append(frame.seq)  # type: ignore[attr-defined]
        if client.token_refreshes >= 3 and not done.is_set():
            done.set()
            client.cancel()

    worker = threading.Thread(target=lambda: client.stream(on_frame))
    worker.start()
    try:
        assert done.wait(120), "the stream never re-authenticated"
    finally:
        client.cancel()
        worker.join()
        client.close()
        orch.stop()
    # Only stream openings refresh here: three refreshes mean the server ended the stream twice, and the client
    # re-authenticated without calling it a lost link.
    assert ConnectionState.RECONNECTING not in states
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    assert seqs[-1] - seqs[0] + 1 == len(seqs), "a frame was skipped across a re-authentication"


def test_a_client_whose_session_the_server_forgot_starts_a_new_one_from_its_grant(tmp_path: Path) -> None:
    port = _port()
    secret = secrets.token_hex(32)
    orch = Orchestrator(ServerConfig(scenario="tutorial", port=port, auth_secret=secret, policy="none"))
    orch.start()
    client = OrchestratorClient(orch.target, LOCAL, refresh_token=orch.issue_refresh_token("jo", auth.VIEWER),
                                backoff=Backoff(initial_s=0.01, cap_s=0.05))
    try:
        client.world_info()
        orch.stop()  # its in-memory ledger (and the session) are gone
        orch = Orchestrator(ServerConfig(scenario="tutorial", port=port, auth_secret=secret, policy="none"))
        orch.start()
        client._tokens.expire()
        assert client.world_info().scenario == "tutorial"
    except OrchestratorError as exc:
        pytest.fail(f"the client did not recover: {exc}")
    finally:
        client.close()
        orch.stop()
