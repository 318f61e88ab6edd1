#!/usr/bin/env bash
# `make registry-image`: the course's registry:2 (Debian's docker-registry, the CNCF Distribution
# registry) and berth/registry (berth's own registry server), built by berth's builder against the
# daemon $BERTH_HOST names (or the default one). The packages come from scripts/system-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the shared libraries FILE loads, copied into ROOT at their own paths (busybox's image has none)
libraries_of() {
    local file=$1 root=$2
    for library in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
        [ -e "$root$library" ] || install -D -m 0755 "$(readlink -f "$library")" "$root$library"
    done
}

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
    .venv/bin/python scripts/busybox_rootfs.py | berth import -c 'CMD ["sh"]' - busybox:latest >/dev/null
fi

# registry:2
context=$work/registry
mkdir -p "$context"
cp images/registry/Dockerfile images/registry/config.yml "$context/"
install -D -m 0755 /usr/bin/docker-registry "$context/rootfs/bin/registry"
libraries_of /usr/bin/docker-registry "$context/rootfs"
berth build -q -t registry:2 "$context"

# berth/registry
context=$work/berth-registry
rootfs=$context/rootfs
mkdir -p "$rootfs/opt/berth"
cp images/berth-registry/Dockerfile "$context/"
install -D -m 0755 /usr/bin/python3.11 "$rootfs/usr/bin/python3.11"
libraries_of /usr/bin/python3.11 "$rootfs"
mkdir -p "$rootfs/usr/lib"
cp -a /usr/lib/python3.11 "$rootfs/usr/lib/"
rm -rf "$rootfs/usr/lib/python3.11/"{test,idlelib,tkinter,turtledemo,ensurepip,lib2to3,pydoc_data,config-3.11-x86_64-linux-gnu}
find "$rootfs/usr/lib/python3.11" -name __pycache__ -prune -exec rm -rf {} +
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
for package in berth click h11 isal zstandard; do
    source=$([ "$package" = berth ] && echo berth || echo "$site/$package")
    cp -a "$source" "$rootfs/opt/berth/"
done
find "$rootfs/opt/berth" -name __pycache__ -prune -exec rm -rf {} +
for module in "$rootfs"/usr/lib/python3.11/lib-dynload/*.so $(find "$rootfs/opt/berth" -name '*.so'); do
    libraries_of "$module" "$rootfs"
done
library=$(ldconfig -p | grep -o '/[^ ]*libcrypt\.so\.1$' | head -1)  # htpasswd checks load it by name
install -D -m 0755 "$(readlink -f "$library")" "$rootfs$library"
berth build -q -t berth/registry "$context"
