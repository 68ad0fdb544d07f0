#!/usr/bin/env bash
# Builds a one-dir PyInstaller bundle and its archive from the project's .venv, offline (PyInstaller itself
# comes from the `package` extra), and writes a package-report.json with the bundle and archive sizes.
#   full (default): dist/scythe/, dist/scythe-<version>-linux-x86_64.tar.gz, dist/package-report.json
#   field:          dist/field/scythe/, dist/field/scythe-field-<version>-linux-x86_64.tar.gz,
#                   dist/field/package-report.json (no torch: numpy inference, no training)
# Usage: packaging/build.sh [VENV] [full|field]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
VARIANT=${2:-full}
PY="$VENV/bin/python"
case $VARIANT in
  full) out=dist; name=scythe; ext=tar.gz; bundle_target=650; archive_target=200;;
  # xz for the field build: a third smaller than gzip -9 for a download to a laptop; every tar reads it (-xJf).
  field) out=dist/field; name=scythe-field; ext=tar.xz; bundle_target=380; archive_target=130;;
  *) echo "build.sh: VARIANT must be full or field, got '$VARIANT'" >&2; exit 2;;
esac

version=$("$PY" -c 'import scythe_desktop; print(scythe_desktop.__version__)')
archive="$out/${name}-${version}-linux-x86_64.$ext"

# A private PyInstaller cache per build: parallel builds sharing ~/.cache/pyinstaller corrupted it.
export PYINSTALLER_CONFIG_DIR="$PWD/build/pyinstaller-config"
mkdir -p "$PYINSTALLER_CONFIG_DIR"

start=$(date +%s)
SCYTHE_VARIANT=$VARIANT "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$out" --workpath "build/pyinstaller-$VARIANT" packaging/scythe.spec
built=$(date +%s)

install -m 0644 packaging/scythe.desktop "$out/scythe/scythe.desktop"
rm -f "$archive"
# Compressed via tar's pipe (portable; the target only needs tar). The archive unpacks to scythe/.
if [ "$ext" = tar.xz ]; then
  tar -C "$out" -cf - scythe | xz -T0 -6 > "$archive"
else
  tar -C "$out" -cf - scythe | gzip -9 > "$archive"
fi
done_at=$(date +%s)

"$PY" - "$out" "$archive" "$VARIANT" $((built - start)) $((done_at - built)) $bundle_target $archive_target <<'PYEOF'
import json, sys
from pathlib import Path

out, archive, variant = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
build_s, archive_s, bundle_target, archive_target = (int(a) for a in sys.argv[4:8])
bundle = sum(p.stat().st_size for p in (out / "scythe").rglob("*") if p.is_file() and not p.is_symlink())
report = {
    "variant": variant,
    "bundle_mb": round(bundle / 1e6, 1),
    "bundle_mb_target": bundle_target,
    "archive_mb": round(archive.stat().st_size / 1e6, 1),
    "archive_mb_target": archive_target,
    "archive": str(archive),
    "build_s": build_s,
    "archive_s": archive_s,
}
(out / "package-report.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report))
PYEOF
