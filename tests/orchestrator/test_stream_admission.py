"""No lock-out without a token: stream slots are capped per identity, per peer and without a token, the last
ones are kept for operators, and unary calls keep their threads — as rules and on a real server."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.reliability.rel_trust import run_lockout
from scythe_desktop.orchestrator.admission import Caller, StreamAdmission, StreamLimits, peer_host

LIMITS = StreamLimits(total=12, per_identity=4, per_peer=6, anonymous=2, reserved=3)
CALLERS = [Caller("", ""), Caller("v1", "viewer"), Caller("v2", "viewer"), Caller("v3", "viewer"),
           Caller("op", "operator"), Caller("root", "admin")]
PEERS = ["ipv4:127.0.0.1:5000", "ipv4:10.0.0.7:4000", "ipv4:10.0.0.7:4001", "ipv6:[2001:db8::1]:9", "unix:/s"]


def test_peer_hosts_drop_the_port() -> None:
    assert peer_host("ipv4:10.0.0.7:4000") == "10.0.0.7"
    assert peer_host("ipv6:[2001:db8::1]:9") == "2001:db8::1"
    assert peer_host("unix:/tmp/s") == peer_host("unix:") == "unix"


def test_each_limit_refuses_by_name() -> None:
    a = StreamAdmission(LIMITS)
    loop = PEERS[0]
    assert all(not isinstance(a.admit(Caller("", ""), loop), str) for _ in range(2))
    assert "without a token" in str(a.admit(Caller("", ""), loop))
    assert all(not isinstance(a.admit(Caller("v1", "viewer"), loop), str) for _ in range(4))
    assert "'v1' already holds 4" in str(a.admit(Caller("v1", "viewer"), loop))
    assert all(not isinstance(a.admit(Caller("v2", "viewer"), loop), str) for _ in range(3))
    assert "kept for operators" in str(a.admit(Caller("v3", "viewer"), loop))  # 9 of 12: the last 3 are kept
    admin = a.admit(Caller("root", "admin"), loop)
    assert not isinstance(admin, str)
    admin.release()
    admin.release()  # twice counts once
    assert a.open_streams == 9


def test_one_remote_host_is_capped_but_loopback_is_not() -> None:
    a = StreamAdmission(StreamLimits(total=40, per_identity=40, per_peer=3, anonymous=1, reserved=0))
    assert all(not isinstance(a.admit(Caller(f"u{i}", "viewer"), PEERS[1 + i % 2]), str) for i in range(3))
    assert "peer 10.0.0.7" in str(a.admit(Caller("u9", "viewer"), PEERS[1]))
    assert all(not isinstance(a.admit(Caller(f"l{i}", "viewer"), PEERS[0]), str) for i in range(10))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(CALLERS) - 1), st.integers(0, len(PEERS) - 1), st.booleans()),
                max_size=80))
def test_no_sequence_breaks_a_limit_or_locks_an_admin_out(steps: list[tuple[int, int, bool]]) -> None:
    a = StreamAdmission(LIMITS)
    held: list[tuple[Caller, str, object]] = []
    for who, where, release in steps:
        if release and held:
            held.pop(0)[2].release()  # type: ignore[attr-defined]
            continue
        caller, peer = CALLERS[who], PEERS[where]
        slot = a.admit(caller, peer)
        if not isinstance(slot, str):
            held.append((caller, peer, slot))
        subjects = [c.subject for c, _, _ in held]
        assert len(held) <= LIMITS.total
        assert subjects.count("") <= LIMITS.anonymous
        assert all(subjects.count(s) <= LIMITS.per_identity for s in subjects if s)
        assert sum(c.role not in ("operator", "admin") for c, _, _ in held) <= LIMITS.total - LIMITS.reserved
        remote = [peer_host(p) for _, p, _ in held if p.startswith(("ipv4:10.", "ipv6:"))]
        assert all(remote.count(h) <= LIMITS.per_peer for h in remote)
        # However the others behave, an admin without streams finds a slot while any is not operators'.
        privileged = sum(c.role in ("operator", "admin") for c, _, _ in held)
        if privileged < LIMITS.reserved:
            probe = a.admit(Caller("fresh-admin", "admin"), PEERS[0])
            assert not isinstance(probe, str), probe
            probe.release()
    assert a.open_streams == len(held)


def test_token_less_streams_and_a_greedy_viewer_lock_no_admin_out() -> None:
    """The issue's reproduction, bounded: 200 token-less streams (reflection and health Watch), one viewer taking
    all it may, refused streams re-opened throughout; the admin's Refresh, GetWorldInfo and stream all work."""
    r = run_lockout(200, 3, hammer_threads=2)
    assert r["unauthenticated_lockout_failures"] == 0, r
    assert r["unauthenticated_streams_admitted"] == r["stream_limits"]["anonymous"], r  # health Watch only
    assert r["viewer_streams_admitted"] == r["stream_limits"]["per_identity"], r
