"""Engine-core benchmarks (issue 2): run latency, exec latency and per-container memory,
berthd side by side with Debian's dockerd when it is installed. Prints figures and ratios.

Usage: python bench/engine_core.py [--runs N] [--containers N]
"""
from __future__ import annotations

import argparse
import compileall
import time

from harness import DOCKER, ROOT, Engine, drop_caches, isolate, median_seconds, start_berthd, start_dockerd, used_memory


def run_latency(engine: Engine, cli: str, runs: int, network: str = "none") -> float:
    """`run --rm busybox true`, on the network named (`bridge`: the default one, wired at each start)."""
    return median_seconds(lambda: engine.run("run", "--rm", "--network", network, "busybox", "true", cli=cli), runs)


def exec_latency(engine: Engine, cli: str, runs: int) -> float:
    container = engine.run("run", "-d", "--network", "none", "busybox", "sleep", "1000").stdout.decode().strip()
    try:
        return median_seconds(lambda: engine.run("exec", container, "true", cli=cli), runs)
    finally:
        engine.run("rm", "-f", container)


def memory_per_container(engine: Engine, count: int) -> float:
    """The system's used memory per idle container; the page cache is dropped before each reading, so
    that files the engine happened to read or write do not count."""
    time.sleep(2)
    drop_caches()
    before = used_memory()
    ids = [engine.run("run", "-d", "--network", "none", "busybox", "sleep", "100000").stdout.decode().strip()
           for _ in range(count)]
    time.sleep(3)
    drop_caches()
    after = used_memory()
    engine.run("rm", "-f", *ids)
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--containers", type=int, default=100)
    args = parser.parse_args()
    # An installed berth has its bytecode; with PYTHONDONTWRITEBYTECODE set, a source tree that was just
    # edited would have every `berth` command compile those modules again.
    compileall.compile_dir(ROOT / "berth", quiet=1)
    isolate()
    berthd = start_berthd()
    dockerd = start_dockerd()
    results: dict[str, float] = {}
    try:
        results["docker->berthd run"] = run_latency(berthd, DOCKER, args.runs) if DOCKER else float("nan")
        results["berth->berthd run"] = run_latency(berthd, berthd.cli, args.runs)
        results["berth->berthd run bridge"] = run_latency(berthd, berthd.cli, args.runs, "bridge")
        results["docker->berthd exec"] = exec_latency(berthd, DOCKER, args.runs) if DOCKER else float("nan")
        results["berth->berthd exec"] = exec_latency(berthd, berthd.cli, args.runs)
        results["berthd MiB/container"] = memory_per_container(berthd, args.containers) / 2**20
        if dockerd is not None:
            results["docker->dockerd run"] = run_latency(dockerd, DOCKER, args.runs)
            results["docker->dockerd run bridge"] = run_latency(dockerd, DOCKER, args.runs, "bridge")
            results["docker->dockerd exec"] = exec_latency(dockerd, DOCKER, args.runs)
            results["dockerd MiB/container"] = memory_per_container(dockerd, args.containers) / 2**20
    finally:
        berthd.close()
        if dockerd is not None:
            dockerd.close()
    for name, value in results.items():
        unit = "" if "MiB" in name else " s"
        print(f"{name:28} {value:8.3f}{unit}")
    if dockerd is not None:
        print("ratios (berth / docker):")
        print(f"  docker CLI run, berthd vs dockerd:  {results['docker->berthd run'] / results['docker->dockerd run']:.2f}  (target <= 0.25)")
        print(f"  berth run vs docker run on dockerd: {results['berth->berthd run'] / results['docker->dockerd run']:.2f}  (target <= 0.5)")
        print(f"  run on the default bridge:          "
              f"{results['berth->berthd run bridge'] / results['docker->dockerd run bridge']:.2f}  (target <= 0.25)")
        print(f"  bridge set-up in a berth run:       "
              f"{1000 * (results['berth->berthd run bridge'] - results['berth->berthd run']):.1f} ms  (target <= 10)")
        print(f"  exec, berth vs docker:              {results['berth->berthd exec'] / results['docker->dockerd exec']:.2f}  (target <= 0.5)")
        print(f"  memory per container:               {results['berthd MiB/container']:.2f} MiB vs "
              f"{results['dockerd MiB/container']:.2f} MiB (target <= 2 MiB)")


if __name__ == "__main__":
    main()
