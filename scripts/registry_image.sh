#!/usr/bin/env bash
# `make registry-image`: the course's registry:2, built by berth's builder from Debian's docker-registry
# (installed by scripts/system-deps.sh), against the daemon $BERTH_HOST names (or the default one).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=/usr/bin/docker-registry
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp images/registry/Dockerfile images/registry/config.yml "$context/"
install -D -m 0755 "$binary" "$context/rootfs/bin/registry"
for library in $(ldd "$binary" | grep -o '/[^ ]*'); do  # busybox's image has no C library of its own
    install -D -m 0755 "$(readlink -f "$library")" "$context/rootfs$library"
done
if ! berth image inspect busybox:latest >/dev/null 2>&1; then
    .venv/bin/python scripts/busybox_rootfs.py | berth import -c 'CMD ["sh"]' - busybox:latest >/dev/null
fi
berth build -q -t registry:2 "$context"
