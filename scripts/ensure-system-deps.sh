#!/usr/bin/env bash
# Installs the system packages the test suite needs (Xvfb, Mesa software GL, Qt's xcb libraries, and strace,
# iproute2 and binutils for the packaging build and smoke test)
# with apt-get when they are missing and we are root; otherwise says what to install.
set -euo pipefail

packages=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
  libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-shape0 libxcb-randr0
  libxcb-xkb1 libfontconfig1 libdbus-1-3
  strace iproute2 binutils)  # make package-test: connect() tracing, loopback-only namespace, strip for torch

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
