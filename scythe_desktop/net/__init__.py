"""The orchestrator side of SCYTHE: the ``scythe.v1`` gRPC contract, its reference server and its client.

Start at :mod:`~scythe_desktop.net.server` (``start_embedded``, ``Orchestrator``) and
:mod:`~scythe_desktop.net.client` (``OrchestratorClient``). The world stays behind
:mod:`~scythe_desktop.net.world_host`; frames fan out through :mod:`~scythe_desktop.net.hub`. Nothing here
imports Qt.
"""
