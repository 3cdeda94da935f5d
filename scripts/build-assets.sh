#!/usr/bin/env bash
# Build the front-end assets into tracker/static/ (which git ignores):
#   tracker/static/css/app.css                 our Sass + GOV.UK Frontend, compiled
#   tracker/static/govuk/govuk-frontend.min.js GOV.UK Frontend's JavaScript (ES module)
#   tracker/static/govuk/assets/               GOV.UK images + manifest.json (no fonts: we use Arial)
#   tracker/static/js/app.js                   our module that calls initAll()
#
# Usage: scripts/build-assets.sh   (from anywhere; it works in the repo root)
# Idempotent: npm ci runs only when node_modules is missing or older than
# package-lock.json, and Sass recompiles only when a source file changed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp=node_modules/.build-assets-stamp
if [[ ! -d node_modules || ! -e "$stamp" || package-lock.json -nt "$stamp" ]]; then
    echo "build-assets: npm ci" >&2
    npm ci --no-audit --no-fund
    touch "$stamp"
fi

govuk=node_modules/govuk-frontend/dist/govuk
out=tracker/static

mkdir -p "$out/css" "$out/js" "$out/govuk/assets"

# --update: compile only if app.scss or anything it loads is newer than app.css.
# --quiet-deps: silence deprecation warnings raised inside govuk-frontend.
node_modules/.bin/sass \
    --update \
    --load-path=node_modules \
    --style=compressed \
    --no-source-map \
    --quiet-deps \
    assets/scss/app.scss:"$out/css/app.css"

# GOV.UK Frontend's JavaScript, its images and the web app manifest. Not the
# fonts: the CSS is compiled without GDS Transport (GOV.UK only).
cp -p "$govuk/govuk-frontend.min.js" "$govuk/govuk-frontend.min.js.map" "$out/govuk/"
rm -rf "$out/govuk/assets/images"
cp -pR "$govuk/assets/images" "$out/govuk/assets/images"
cp -p "$govuk/assets/manifest.json" "$out/govuk/assets/manifest.json"

cp -p assets/js/app.js "$out/js/app.js"

# Guard: the CSS must not ask for GOV.UK's fonts, and must find its images
# where we copied them.
if grep -q -e "GDS Transport" -e "/fonts/" "$out/css/app.css"; then
    echo "build-assets: $out/css/app.css refers to GDS Transport fonts" >&2
    exit 1
fi
if grep -o 'url("[^"]*")' "$out/css/app.css" | grep -v -q '^url("/static/govuk/assets/'; then
    echo "build-assets: $out/css/app.css has a url() outside /static/govuk/assets/" >&2
    exit 1
fi

# app.css is the Makefile's target for this script: mark it as built even when
# Sass had nothing to recompile (say only app.js changed).
touch "$out/css/app.css"

echo "build-assets: done ($out)" >&2
