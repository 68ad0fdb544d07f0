#!/usr/bin/env bash
# Builds dist/scythe/ (one-dir PyInstaller bundle) and dist/scythe-<version>-linux-x86_64.tar.gz from the
# project's .venv, offline (PyInstaller itself comes from the `package` extra), and writes
# dist/package-report.json with the bundle and archive sizes. Usage: packaging/build.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PY="$VENV/bin/python"

version=$("$PY" -c 'import scythe_desktop; print(scythe_desktop.__version__)')
archive="dist/scythe-${version}-linux-x86_64.tar.gz"

# A private PyInstaller cache per build: parallel builds sharing ~/.cache/pyinstaller corrupted it.
export PYINSTALLER_CONFIG_DIR="$PWD/build/pyinstaller-config"
mkdir -p "$PYINSTALLER_CONFIG_DIR"

start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/scythe.spec
built=$(date +%s)

install -m 0644 packaging/scythe.desktop dist/scythe/scythe.desktop
rm -f "$archive"
# gzip -9 via tar's pipe (portable; the target only needs tar). -C dist: the archive unpacks to scythe/.
tar -C dist -cf - scythe | gzip -9 > "$archive"
done_at=$(date +%s)

"$PY" - "$archive" $((built - start)) $((done_at - built)) <<'PYEOF'
import json, os, sys
from pathlib import Path

archive, build_s, archive_s = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
bundle = sum(p.stat().st_size for p in Path("dist/scythe").rglob("*") if p.is_file() and not p.is_symlink())
report = {
    "bundle_mb": round(bundle / 1e6, 1),
    "bundle_mb_target": 650,
    "archive_mb": round(archive.stat().st_size / 1e6, 1),
    "archive_mb_target": 200,
    "archive": str(archive),
    "build_s": build_s,
    "archive_s": archive_s,
}
Path("dist/package-report.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report))
PYEOF
