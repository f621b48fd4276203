#!/usr/bin/env bash
# Vendor the pinned front-end packages from the npm registry into static/vendor/, licences kept.
# No page may depend on a CDN: union intranets may have no internet.
# Usage: bash scripts/vendor_assets.sh   (needs npm; run from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION FILE...  (FILE relative to the package root)
  local name=$1 version=$2; shift 2
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null 2>&1)
  local tarball
  tarball=$(ls "$work"/*.tgz)
  mkdir -p "$work/x" && tar -xzf "$tarball" -C "$work/x"
  rm -rf "${dest:?}/$name" && mkdir -p "$dest/$name"
  for file in "$@"; do
    mkdir -p "$dest/$name/$(dirname "$file")"
    cp "$work/x/package/$file" "$dest/$name/$file"
  done
  echo "$name@$version" >> "$dest/VERSIONS.new"
  rm -rf "$work/x" "$tarball"
}

rm -f "$dest/VERSIONS.new"
mkdir -p "$dest"
fetch leaflet 1.9.4 LICENSE dist/leaflet.js dist/leaflet.css \
  dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png \
  dist/images/marker-shadow.png
fetch leaflet.markercluster 1.5.3 MIT-LICENCE.txt dist/leaflet.markercluster.js dist/MarkerCluster.css \
  dist/MarkerCluster.Default.css
fetch swagger-ui-dist 5.35.0 LICENSE NOTICE swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css
# Noto Sans SC (SIL OFL 1.1) for map pictures: Chinese text on any machine, with no system font.
fetch @expo-google-fonts/noto-sans-sc 0.4.3 LICENSE_FONT 400Regular/NotoSansSC_400Regular.ttf \
  700Bold/NotoSansSC_700Bold.ttf
# axe-core (MPL-2.0): the accessibility checker the browser tests inject; pages never load it.
fetch axe-core 4.14.1 LICENSE LICENSE-3RD-PARTY.txt axe.min.js
mv "$dest/VERSIONS.new" "$dest/VERSIONS"
echo "vendored: $(tr '\n' ' ' < "$dest/VERSIONS")"
