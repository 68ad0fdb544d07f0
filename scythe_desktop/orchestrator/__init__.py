"""The orchestrator: the ``scythe.v1`` server, thin servicers translating protobuf to domain calls, the
action desk, frame hub, advisor, audit log, state store, observer backends, auth and certificates.

Start at :mod:`~scythe_desktop.orchestrator.server` (``Orchestrator``, ``start_embedded``). The world stays
behind :mod:`~scythe_desktop.orchestrator.world_host`; frames fan out through
:mod:`~scythe_desktop.orchestrator.hub`. Nothing here imports Qt or the client.
"""
