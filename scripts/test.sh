#!/usr/bin/env bash
# Runs the whole suite as root; then, with no arguments, the tests not marked `root` once more as an
# unprivileged user, so that they stay runnable by anyone. pytest exits 5 when it collected no test;
# that fails here like any error.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
if [[ $# -gt 0 || $(id -u) != 0 ]]; then
    exit 0
fi
echo "== the tests not marked root, as an unprivileged user (nobody)"
home=$(mktemp -d)
chmod 0777 "$home"
trap 'rm -rf "$home"' EXIT
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
           env HOME="$home" TMPDIR="$home" HYPOTHESIS_STORAGE_DIRECTORY="$home/hypothesis")
python=.venv/bin/python
if ! "${as_nobody[@]}" "$python" -c '' 2>/dev/null; then
    # the venv's interpreter lives where nobody may not go (a pyenv under /root): the system's
    # python3, of the same version, with the venv's packages
    python=/usr/bin/python3
    as_nobody+=(PYTHONPATH="$(echo "$PWD"/.venv/lib/python3*/site-packages):$PWD")
fi
"${as_nobody[@]}" "$python" -m pytest -q -p no:cacheprovider -m "not root"
