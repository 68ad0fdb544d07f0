"""The ``scythe.v1`` wire contract: the ``.proto``, its generated modules and the codecs between protobuf
messages and domain types (frame chunks, cluster-table rows, proposals). No server, no client, no Qt."""
