"""Build benchmark (issue 9): an 8-step Dockerfile with a 50 MB COPY, built cold and then again with
nothing changed (every step from the cache), berthd beside dockerd's classic builder; and a context
of 10 000 small files sent and checksummed.

Usage: python bench/build.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from harness import DOCKER, Engine, isolate, start_berthd, start_dockerd

DOCKERFILE = """\
FROM busybox
LABEL bench=build
ENV APP=/app
WORKDIR /app
COPY big.bin /app/
RUN wc -c /app/big.bin > /app/size.txt
EXPOSE 8080
CMD ["cat", "/app/size.txt"]
"""


def big_context(root: Path) -> Path:
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "big.bin").write_bytes(os.urandom(50 * 2**20))
    return root


def small_files_context(root: Path, count: int) -> Path:
    (root / "Dockerfile").write_text("FROM busybox\nCOPY . /ctx/\n")
    for index in range(count):
        directory = root / f"d{index // 500}"
        directory.mkdir(exist_ok=True)
        (directory / f"f{index}.txt").write_text(f"file {index}\n")
    return root


def timed_build(engine: Engine, cli: str, root: Path, *flags: str) -> float:
    started = time.perf_counter()
    subprocess.run([cli, "-H", engine.host, "build", "-q", *flags, str(root)], check=True, capture_output=True,
                   env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return time.perf_counter() - started


def measure(engine: Engine, cli: str, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        big_root, small_root = big_context(Path(big)), small_files_context(Path(small), 10_000)
        cold = statistics.median(timed_build(engine, cli, big_root, "--no-cache") for _ in range(runs))
        cached = statistics.median(timed_build(engine, cli, big_root) for _ in range(runs))
        many = statistics.median(timed_build(engine, cli, small_root, "--no-cache") for _ in range(runs))
    return {"cold build s": cold, "cached rebuild s": cached, "10000 small files s": many}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    isolate()
    berthd = start_berthd()
    dockerd = start_dockerd() if DOCKER else None
    try:
        results = {"berth -> berthd": measure(berthd, berthd.cli, args.runs)}
        if dockerd is not None:
            results["docker -> berthd"] = measure(berthd, DOCKER, args.runs)
            results["docker -> dockerd"] = measure(dockerd, DOCKER, args.runs)
    finally:
        berthd.close()
        if dockerd is not None:
            dockerd.close()
    for name, figures in results.items():
        print(f"{name}: " + ", ".join(f"{key} {value:.3f}" for key, value in figures.items()))
    if "docker -> dockerd" in results:
        reference = results["docker -> dockerd"]
        for key in reference:
            print(f"  {key}: berth {results['berth -> berthd'][key] / reference[key]:.2f}x dockerd")


if __name__ == "__main__":
    main()
