#!/usr/bin/env bash
# `make demo`: start berthd (unless it already runs), make busybox:latest if missing, run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKET=/run/berth/berth.sock
LOG=/var/log/berthd.log
export BERTH_HOST=unix://$SOCKET

if ! berth version >/dev/null 2>&1; then
    echo "starting berthd (log: $LOG)"
    mkdir -p /run/berth /etc/berth
    [ -f /etc/berth/daemon.json ] || echo '{}' > /etc/berth/daemon.json
    nohup berthd >>"$LOG" 2>&1 &
    for _ in $(seq 100); do
        berth version >/dev/null 2>&1 && break
        sleep 0.1
    done
    berth version >/dev/null || { echo "berthd did not start; see $LOG" >&2; exit 1; }
fi

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
    echo "making busybox:latest from Debian's busybox-static"
    .venv/bin/python scripts/busybox_rootfs.py | berth import -c 'CMD ["sh"]' - busybox:latest
fi

berth run --rm busybox echo hello from berth

echo
echo "== networks: two containers on a bridge network of their own, talking by address"
berth rm -f demo-server >/dev/null 2>&1 || true
berth network rm demo-net >/dev/null 2>&1 || true
berth network create demo-net >/dev/null
berth run -d --name demo-server --network demo-net busybox sleep 60 >/dev/null
address=$(berth inspect -f '{{(index .NetworkSettings.Networks "demo-net").IPAddress}}' demo-server)
berth run --rm --network demo-net busybox ping -c 2 "$address"
echo "-- what berth wired on this host: the network's bridge and the server's veth pair"
ip -br address show dev "br-$(berth network inspect -f '{{.Id}}' demo-net | cut -c1-12)"
ip -br link show type veth
berth rm -f demo-server >/dev/null
berth network rm demo-net >/dev/null
