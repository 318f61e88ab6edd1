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
echo "== build: the course's Dockerfile instructions, an image made of a stack of layers"
demo_context=$(mktemp -d)
trap 'rm -rf "$demo_context"' EXIT
cat > "$demo_context/hello.sh" <<'SCRIPT'
#!/bin/sh
echo "hello from $APP_NAME, built by berth (version $VERSION)"
SCRIPT
cat > "$demo_context/Dockerfile" <<'DOCKERFILE'
FROM busybox
LABEL maintainer="berth demo" version="1.0" description="the course's helloworld"
ENV APP_NAME=helloworld VERSION=1.0
WORKDIR /app
COPY hello.sh /app/
RUN chmod +x /app/hello.sh && \
    echo "built at image time" > /app/built.txt
EXPOSE 8000
ENTRYPOINT ["/app/hello.sh"]
DOCKERFILE
berth build -t helloworld "$demo_context"
berth run --rm helloworld
echo "-- its layers (berth history helloworld)"
berth history helloworld

echo
echo "== networks: two containers on a bridge network of their own, talking by name"
berth rm -f demo-server demo-web >/dev/null 2>&1 || true
berth network rm demo-net >/dev/null 2>&1 || true
berth network create demo-net >/dev/null
berth run -d --name demo-server --network demo-net busybox sleep 60 >/dev/null
berth run --rm --network demo-net busybox ping -c 2 demo-server
echo "-- what berth wired: the server's namespace, veth pair and bridge (berth network explain)"
berth network explain demo-server

echo
echo "== a published port: a web server in a container, reached from this host on port 8080"
berth run -d --name demo-web -p 8080:80 busybox httpd -f -p 80 -h /etc >/dev/null
for _ in $(seq 20); do busybox wget -qO- http://127.0.0.1:8080/hostname 2>/dev/null && break; sleep 0.1; done
berth port demo-web
berth rm -f demo-server demo-web >/dev/null
berth network rm demo-net >/dev/null

echo
echo "== publishing: the course's private registry (registry:2, built here from Debian's docker-registry)"
if ! berth image inspect registry:2 >/dev/null 2>&1; then
    bash scripts/registry_image.sh >/dev/null
fi
berth rm -f -v registry >/dev/null 2>&1 || true
berth run -d -p 5000:5000 --restart always --name registry registry:2 >/dev/null
for _ in $(seq 50); do busybox wget -qO- http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.1; done
echo "-- push the helloworld image built above (loopback needs no insecure-registries entry)"
berth tag helloworld 127.0.0.1:5000/helloworld
berth push 127.0.0.1:5000/helloworld
echo "-- remove it here, pull it back from the registry, run it"
berth rmi helloworld 127.0.0.1:5000/helloworld >/dev/null
berth pull 127.0.0.1:5000/helloworld
berth run --rm 127.0.0.1:5000/helloworld
berth rm -f -v registry >/dev/null
