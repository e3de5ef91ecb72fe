#!/usr/bin/env bash
# tests/gpu/fetch_deps.sh DIR - on a Debian machine with a package registry,
# downloads what tests/gpu/check.sh needs and a GPU machine may lack (Check
# and subunit for the tests, zlib's, libjpeg-turbo's (libjpeg and
# TurboJPEG) and libpng's headers,
# pkg-config, and Fashion-MNIST
# for a training run, 30 MB) and unpacks it into DIR/usr (default
# .gpu-deps in the repository, which git ignores).
# Carry DIR to the GPU machine; check.sh finds it there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/.gpu-deps}
packages=(check libsubunit0 libsubunit-dev zlib1g zlib1g-dev pkgconf
          pkgconf-bin libpkgconf3 dataset-fashion-mnist libjpeg62-turbo
          libjpeg62-turbo-dev libturbojpeg0 libturbojpeg0-dev libpng16-16
          libpng-dev)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${packages[@]}")
rm -rf "$dir"
mkdir -p "$dir"
for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$dir"
done
# Documentation and manuals are of no use there.
rm -rf "$dir/usr/share/doc" "$dir/usr/share/man" "$dir/usr/share/info"
# zlib's runtime library lives under /lib; put it next to the others.
if [ -d "$dir/lib/x86_64-linux-gnu" ]; then
    cp -a "$dir/lib/x86_64-linux-gnu/." "$dir/usr/lib/x86_64-linux-gnu/"
    rm -rf "$dir/lib"
fi
du -sh "$dir"
