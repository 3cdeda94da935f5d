#!/usr/bin/env bash
# The Debian packages the tracker needs from the system, installed when they are missing.
#
#   scripts/system-packages.sh run    Node.js and npm (the GOV.UK Frontend assets) and venv
#   scripts/system-packages.sh test   the same, and what the tests use: Chromium (browser
#                                     tests), PostgreSQL (production's database) and pango
#                                     (WeasyPrint's PDF board packs)
#
# As root it installs what is missing with apt-get. As anyone else it installs nothing: it
# prints the one apt-get line to run and stops, so that nothing fails half-way later.
set -euo pipefail

mode="${1:-run}"
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
python3 -c "import venv, ensurepip" 2>/dev/null || need+=(python3-venv)
if [[ "$mode" == test ]]; then
    [[ -x /usr/bin/chromium ]] || need+=(chromium)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    # grep without -q: an early exit would SIGPIPE ldconfig, and pipefail would then count
    # the library as missing
    ldconfig -p | grep libpango-1.0 >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]]; then
    echo "The tracker's ${mode/test/tests} need these Debian packages, which are missing." >&2
    echo "Install them (as root), then run make $mode again:" >&2
    echo "" >&2
    echo "    sudo apt-get install -y ${need[*]}" >&2
    exit 1
fi
echo "system-packages: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
