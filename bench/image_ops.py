#!/usr/bin/env python3
"""commit / save / load of a 200 MB random-data layer, against dockerd 20.10's figures.

Usage: bench/image_ops.py [SIZE_MB]   (run as root; uses a temporary data root under /var/tmp)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from berth.image import ImageService  # noqa: E402

DOCKERD = {"commit": 1.03, "save": 1.47, "load": 0.95}
TARGET_RATIO = 0.5


def timed(label: str, action, results: dict[str, float]) -> None:
    start = time.perf_counter()
    action()
    results[label] = time.perf_counter() - start


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = Path(tempfile.mkdtemp(prefix="berth-bench-", dir="/var/tmp"))
    try:
        images = ImageService(base / "data")
        rootfs = base / "rootfs.tar"
        subprocess.run([sys.executable, "scripts/busybox_rootfs.py", str(rootfs)], check=True)
        with open(rootfs, "rb") as stream:
            busybox = images.import_image(stream, "busybox", [], "")
        upper = base / "upper"
        upper.mkdir()
        with open(upper / "random.bin", "wb") as out:
            for _ in range(size_mb):
                out.write(os.urandom(1 << 20))
        os.sync()
        results: dict[str, float] = {}
        timed("commit", lambda: images.commit(upper, busybox, {"Cmd": ["sh"]}, [], "", "", "big:1", "c" * 64),
              results)
        archive = base / "big.tar"
        with open(archive, "wb") as out:
            timed("save", lambda: images.save(["big:1"], out), results)
        other = ImageService(base / "other")
        with open(archive, "rb") as stream:
            timed("load", lambda: other.load(stream), results)
        print(f"{size_mb} MB random-data layer (target: at most {TARGET_RATIO}x dockerd 20.10's time)")
        for name, seconds in results.items():
            ratio = seconds / DOCKERD[name]
            verdict = "ok" if ratio <= TARGET_RATIO else "SLOW"
            print(f"  {name:7s} {seconds:6.3f} s   dockerd {DOCKERD[name]:.2f} s   ratio {ratio:4.2f}  {verdict}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
