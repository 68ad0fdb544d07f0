"""``Auth/Refresh``: sessions with rotating refresh tokens and reuse detection.

A long-lived refresh token (a *grant*: token files, the embedded console's token, an observer's credential)
presented to Refresh starts a *session*: the reply carries an access token and the session's first rotating
refresh token (generation 1). Each later Refresh must present the newest one; it returns the next and the old
one is spent. Presenting a spent one is *reuse* — someone else holds a copy — and revokes the session and the
grant it came from (every token issued under them dies at once; the holder needs a new credential). One
exception keeps a lost reply from looking like theft: the token of the previous generation is accepted again
within :data:`REUSE_GRACE_S` of its rotation (the client retried after the reply with its successor was lost).
A session ends with its grant and after :data:`SESSION_TTL_S`; an unknown session (its ledger was lost) is
refused so that the client falls back to its grant. Knows tokens and the ledger, not servicers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import grpc

from scythe_desktop.orchestrator.auth import AuthError, Identity, TokenAuthority

log = logging.getLogger(__name__)

SESSION_TTL_S: Final = 12 * 3600.0
REUSE_GRACE_S: Final = 30.0
#: Words the client looks for to fall back to its grant (see client/credentials.py).
SESSION_UNKNOWN: Final = "session unknown"


@dataclass(frozen=True, slots=True)
class Refreshed:
    access_token: str
    access_expires_at: float
    refresh_token: str
    refresh_expires_at: float


def refresh(authority: TokenAuthority, who: Identity, now: float) -> Refreshed:
    """The reply to a verified refresh token ``who`` (a grant or a session's rotating token), or AuthError."""
    ledger = authority.ledger
    if not who.session:
        session = ledger.start_session(who.subject, who.role, who.token_id, min(who.expires_at, now + SESSION_TTL_S))
    else:
        current = ledger.session(who.session)
        if current is None:
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED,
                            f"{SESSION_UNKNOWN} (the server lost it); log in again with the long-lived refresh token")
        stale = current.generation - who.generation
        if stale == 1 and now - current.rotated <= REUSE_GRACE_S:
            pass  # the client lost the reply that carried its successor: rotate again from here
        elif stale != 0:
            ledger.revoke(current.sid, expires=current.expires, why="refresh token reuse")
            ledger.revoke(current.grant_jti, why="refresh token reuse")
            log.warning("refresh token reuse detected for %s (session %s): session and grant revoked",
                        who.subject, current.sid)
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED,
                            "refresh token reuse detected: this session and the refresh token it started from are "
                            "revoked; ask an admin for a new token")
        advanced = ledger.advance(current.sid, current.generation)
        if advanced is None:  # a concurrent refresh of the same session won the race: this copy is the stale one
            raise AuthError(grpc.StatusCode.UNAUTHENTICATED, "refresh token already used; retry with its successor")
        session = advanced
    access = authority.issue(who.subject, who.role, session=session.sid, grant=session.grant_jti,
                             expires_at=session.expires)
    rotating = authority.issue(who.subject, who.role, kind="refresh", session=session.sid, grant=session.grant_jti,
                               generation=session.generation, expires_at=session.expires)
    return Refreshed(access, min(now + authority.access_ttl_s, session.expires), rotating, session.expires)


__all__ = ["REUSE_GRACE_S", "SESSION_TTL_S", "SESSION_UNKNOWN", "Refreshed", "refresh"]
