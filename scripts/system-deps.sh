#!/usr/bin/env bash
# Installs the Debian packages berth needs at run and test time, if any is missing.
set -euo pipefail
packages=(python3-venv busybox-static git iproute2 nftables libnftables1 runc crun tini procps docker.io docker-compose skopeo umoci openssl docker-registry
          golang-github-opencontainers-image-spec-dev  # OCI JSON schemas the tests validate against
          golang-github-docker-docker-dev)  # the Engine API's swagger spec, which the request bodies' types are held to
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
