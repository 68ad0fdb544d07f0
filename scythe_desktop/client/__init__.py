"""Reaching an orchestrator: the gRPC client (domain-typed results and errors) and the one
:class:`~scythe_desktop.client.source.Source` interface that embedded, remote and replay sources implement.
:mod:`~scythe_desktop.client.embedded` is the only way the console reaches the orchestrator package. No Qt."""
