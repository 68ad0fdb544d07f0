"""VisPy visuals and scene adapters for the globe; they take numpy buffers and small view-models only.

Modules (import the one you need; only ``lod``, ``geometry`` and ``basemap`` work without VisPy GL):

- ``scene``    :class:`GlobeScene`: the one ``SceneCanvas`` (embed ``canvas.native``), camera, picking,
               offscreen rendering. Importing it selects VisPy's ``pyside6`` app and ``gl+`` backend.
- ``nodes``    :class:`Nodes`: instanced sprites straight from the (N, 6) node buffer; partial uploads.
- ``edges``    :class:`Edges`: a cluster's edges, confidence as alpha.
- ``centroids`` :class:`CentroidMarkers`: rings at the clusters drawn without nodes.
- ``lod``      LOD tiers by node count (pure numpy).
- ``globe``    :class:`Globe`: sphere, graticule, Natural Earth borders from ``resources/basemap``.
- ``fields``   :class:`VolumeField` (3-D float texture) and :class:`GridLayers` (lon/lat grids draped).
- ``overlays`` observers, proposal ghosts with confidence cones, gradient arrows, from frozen view-models.
- ``display``  :func:`x_display`: this ``DISPLAY`` or a private Xvfb (the one place that starts one).

Nothing here imports ``engine``, ``protocol``, ``orchestrator``, ``client``, ``recording`` or ``console`` (an
import-linter contract), and only the GUI thread may call into the GL-backed classes.
"""
