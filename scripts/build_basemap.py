"""Convert Natural Earth 1:110m country outlines into the compact basemap the globe ships with.

Run once, offline, by a developer (never at run time):

    .venv/bin/pip download --no-deps geopandas==0.14.4 -d /tmp/gpd
    .venv/bin/python scripts/build_basemap.py /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

The geopandas 0.14.4 wheel is a zip that carries Natural Earth's ``ne_110m_admin_0_countries`` as
``geopandas/datasets/naturalearth_lowres/naturalearth_lowres.{shp,shx,dbf,prj}`` (public domain). This
script reads those members straight from the zip with pyshp (a ``dev`` extra, not a runtime dependency)
and writes ``resources/basemap/ne_110m_borders.npz``: every polygon ring as a closed polyline of
float32 lon/lat degrees, with offsets, and the country name of each ring. The app loads it with numpy.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapefile  # pyshp

MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
OUT = Path(__file__).resolve().parents[1] / "resources" / "basemap" / "ne_110m_borders.npz"
SOURCE = "Natural Earth 1:110m admin 0 countries, via geopandas 0.14.4 datasets/naturalearth_lowres"
LICENCE = "public domain (Natural Earth terms of use)"


def read_rings(wheel: Path) -> tuple[list[np.ndarray], list[str]]:
    with zipfile.ZipFile(wheel) as zf:
        parts = {ext: io.BytesIO(zf.read(f"{MEMBER}.{ext}")) for ext in ("shp", "shx", "dbf")}
        # The .cpg names the .dbf text encoding (ISO 8859-1 here, e.g. "Côte d'Ivoire").
        encoding = zf.read(f"{MEMBER}.cpg").decode("ascii").strip()
    reader = shapefile.Reader(shp=parts["shp"], shx=parts["shx"], dbf=parts["dbf"], encoding=encoding)
    fields = [f[0] for f in reader.fields[1:]]
    name_field = fields.index("name")
    rings: list[np.ndarray] = []
    names: list[str] = []
    for shape_rec in reader.iterShapeRecords():
        points = np.asarray(shape_rec.shape.points, dtype=np.float64)
        starts = [*shape_rec.shape.parts, len(points)]
        for a, b in itertools.pairwise(starts):
            if b - a >= 2:
                rings.append(points[a:b])
                names.append(str(shape_rec.record[name_field]))
    return rings, names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="path to geopandas-0.14.4-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rings, names = read_rings(args.wheel)
    lonlat = np.concatenate(rings).astype(np.float32)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int64)
    country_names, country_of_line = np.unique(np.array(names), return_inverse=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        lonlat=lonlat,
        offsets=offsets,
        country_of_line=country_of_line.astype(np.int32),
        country_names=country_names,
        source=np.array(SOURCE),
        licence=np.array(LICENCE),
    )
    print(f"{len(rings)} rings, {len(lonlat)} points, {len(country_names)} countries -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
