#!/bin/sh
# Vendors Chart.js into the console's static files: the dashboard loads no CDN at run time.
# Reproducible: a pinned version from npm, its integrity checked, the UMD build and licence copied.
set -eu
VERSION="${CHARTJS_VERSION:-4.5.1}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$HERE/router/console/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "chart.js@$VERSION" > pack.txt
tar -xzf "chart.js-$VERSION.tgz"
mkdir -p "$OUT"
cp package/dist/chart.umd.min.js "$OUT/chart.umd.min.js" 2>/dev/null \
  || cp package/dist/chart.umd.js "$OUT/chart.umd.min.js"
cp package/LICENSE.md "$OUT/chart.js.LICENSE.md"
printf 'chart.js %s\nsha256 %s\n' "$VERSION" \
  "$(sha256sum "$OUT/chart.umd.min.js" | cut -d' ' -f1)" > "$OUT/chart.js.VERSION"
echo "vendored chart.js $VERSION into $OUT"
