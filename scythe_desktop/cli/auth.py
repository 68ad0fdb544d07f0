"""``scythe auth``: list an orchestrator's grants and sessions, revoke them by subject or token id.

Works on the ledger file (``credentials.sqlite``) in the server's ``--state`` directory, or its ``--token-dir``
when it runs without one — while it runs (it picks the change up within a fraction of a second) or not.
``revoke --subject S`` refuses every token of ``S`` issued before now (its long-lived refresh tokens, their
sessions and access tokens; a later restart of ``scythe serve`` writes fresh token files); ``revoke --token-id
ID`` refuses one grant or session (``list`` shows the ids) and everything issued under it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("list", "show grants and sessions with their ids"),
                       ("revoke", "revoke every token of a subject, or one grant or session")):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--state", type=Path, required=True,
                       help="the server's --state directory (or its --token-dir when it runs without --state)")
        if name == "revoke":
            which = p.add_mutually_exclusive_group(required=True)
            which.add_argument("--subject", help="e.g. cli-operator, observer-12, local-alice")
            which.add_argument("--token-id", help="a grant's or session's id, as `scythe auth list` prints it")


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def run(args: argparse.Namespace) -> int:
    from scythe_desktop.orchestrator.token_ledger import CREDENTIALS_FILE, TokenLedger

    path = args.state / CREDENTIALS_FILE
    if not path.is_file():
        print(f"scythe auth: no {CREDENTIALS_FILE} in {args.state} (is it the server's --state or --token-dir?)",
              file=sys.stderr)  # never create one: revoking into a file no server reads would mislead
        return 2
    ledger = TokenLedger(path)
    try:
        if args.action == "revoke":
            if args.subject:
                ledger.revoke_subject(args.subject)
                print(f"revoked every token of {args.subject} issued before {_when(time.time())}")
            else:
                ledger.revoke(args.token_id, why="scythe auth revoke")
                print(f"revoked {args.token_id}")
            return 0
        print("grants (long-lived refresh tokens):")
        for g in ledger.grants():
            state = "REVOKED" if g.revoked else f"valid until {_when(g.expires)}"
            print(f"  {g.jti}  {g.subject:24} {g.role:9} issued {_when(g.issued)}  {state}")
        print("sessions:")
        for s in ledger.sessions():
            state = "REVOKED" if ledger.refused(s.subject, s.rotated, (s.sid, s.grant_jti)) else "live"
            print(f"  {s.sid}  {s.subject:24} {s.role:9} from grant {s.grant_jti}  generation {s.generation}  "
                  f"rotated {_when(s.rotated)}  {state}")
        return 0
    finally:
        ledger.close()
