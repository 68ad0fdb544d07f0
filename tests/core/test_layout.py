"""The buffer layouts of docs/architecture.md ("One memory layout"), pinned byte for byte."""

from __future__ import annotations

import numpy as np

from scythe_desktop.core.layout import (
    DELTA_DTYPE,
    EDGE_DTYPE,
    NODE_VERTEX_DTYPE,
    as_vertex_records,
    make_node_buffer,
    node_lonlat,
)


def test_dtypes_have_the_designed_offsets_and_sizes() -> None:
    assert NODE_VERTEX_DTYPE.itemsize == 24
    assert [NODE_VERTEX_DTYPE.fields[f][1] for f in ("position", "intensity", "threat", "size")] == [0, 12, 16, 20]
    assert EDGE_DTYPE.itemsize == 12 and [EDGE_DTYPE.fields[f][1] for f in EDGE_DTYPE.names] == [0, 4, 8]
    assert DELTA_DTYPE.itemsize == 24
    for dtype in (NODE_VERTEX_DTYPE, EDGE_DTYPE, DELTA_DTYPE):
        for name in dtype.names:
            base = dtype.fields[name][0].base
            assert base.byteorder in ("<", "|") or (base.byteorder == "=" and np.little_endian)


def test_node_buffer_from_lonlat_and_back() -> None:
    lon = np.array([0.0, 90.0, -179.5, 45.0])
    lat = np.array([0.0, 0.0, -30.0, 89.0])
    nodes = make_node_buffer(lon, lat, alt=0.01, intensity=[0.1, 0.2, 0.3, 0.4], threat=1.5, size=2.0)
    assert nodes.shape == (4, 6) and nodes.dtype == np.float32 and nodes.flags.c_contiguous
    np.testing.assert_allclose(nodes[0, :3], [1.01, 0, 0], atol=1e-6)
    np.testing.assert_allclose(nodes[1, :3], [0, 1.01, 0], atol=1e-6)
    back_lon, back_lat, alt = node_lonlat(nodes)
    np.testing.assert_allclose(back_lon, lon, atol=1e-4)
    np.testing.assert_allclose(back_lat, lat, atol=1e-4)
    np.testing.assert_allclose(alt, 0.01, atol=1e-6)


def test_vertex_records_are_a_view_of_the_node_buffer() -> None:
    nodes = make_node_buffer([10.0, 20.0], [0.0, 5.0], intensity=0.5, threat=2.0)
    records = as_vertex_records(nodes)
    assert np.shares_memory(records, nodes)
    assert records["threat"].tolist() == [2.0, 2.0]
    nodes[1, 3] = 0.75
    assert records["intensity"][1] == 0.75
