"""VisPy visuals and scene adapters for the globe; they take numpy buffers and small view-models only.

Modules (import the one you need; only ``lod``, ``geometry`` and ``basemap`` work without VisPy GL):

- ``scene``    :class:`GlobeScene`: the one ``SceneCanvas`` (embed ``canvas.native``), camera, picking,
               offscreen rendering. Importing it selects VisPy's ``pyside6`` app and ``gl+`` backend.
- ``nodes``    :class:`Nodes`: instanced sprites straight from the (N, 6) node buffer; partial uploads.
- ``edges``    :class:`Edges`: a cluster's edges, confidence as alpha.
- ``cluster``  :class:`ClusterLayer`: nodes + edges + field + centroid of one cluster, switched by LOD.
- ``lod``      LOD tiers by node count (pure numpy).
- ``globe``    :class:`Globe`: sphere, graticule, Natural Earth borders from ``resources/basemap``.
- ``fields``   :class:`VolumeField` (3-D float texture) and :class:`GridLayers` (lon/lat grids draped).
- ``overlays`` observers, proposal ghosts with confidence cones, gradient arrows, from frozen view-models.

Nothing here imports ``engine``, ``net`` or ``ui`` (an import-linter contract), and only the GUI thread
may call into the GL-backed classes.
"""
