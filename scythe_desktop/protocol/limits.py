"""Message size limits both ends agree on: what a client receives, so a server never sends more.

The client keeps gRPC's default receive limit (4 MiB) and sets it explicitly, so the figure servers bound their
replies by is the one clients enforce. Knows numbers only.
"""

from __future__ import annotations

from typing import Final

#: The largest message a ``scythe.v1`` client accepts (``grpc.max_receive_message_length``).
CLIENT_MAX_RECEIVE_BYTES: Final = 4 * 1024 * 1024
#: Room a reply needs beside its payload: the 48-byte frame header, protobuf tags, lengths and scalars.
REPLY_OVERHEAD_BYTES: Final = 4096

__all__ = ["CLIENT_MAX_RECEIVE_BYTES", "REPLY_OVERHEAD_BYTES"]
