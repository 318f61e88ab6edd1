"""docker-py's own integration suite against berthd: a measure of Engine API compatibility (issue 11).

Fetches the PyPI sdist of docker==7.0.0 for its `tests/integration`, and runs them with the docker
7.1.0 library (in a venv of their own under --workdir) against a fresh berthd in a private network
namespace, whose busybox image stands in for the images the tests name (there is no Docker Hub
here). Out of scope and deselected, each with its reason: Swarm (services, secrets, configs, nodes,
swarm-scoped networks), plugins, the tests that pull from Docker Hub, and those of docker-py's
credential helpers. Prints passed / failed / errors / skipped and the failures by file.

Usage (as root): .venv/bin/python bench/dockerpy_suite.py [--workdir DIR] [-k EXPRESSION]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from harness import Engine, isolate, start_berthd, start_dockerd

SDIST = "docker==7.0.0"
LIBRARY = "docker==7.1.0"
STAND_INS = ("alpine:3.10", "alpine:latest")  # what the tests run, made from busybox
OUT_OF_SCOPE = {
    "tests/integration/api_swarm_test.py": "Swarm",
    "tests/integration/api_service_test.py": "Swarm services",
    "tests/integration/api_secret_test.py": "Swarm secrets",
    "tests/integration/api_config_test.py": "Swarm configs",
    "tests/integration/api_plugin_test.py": "plugins",
    "tests/integration/models_swarm_test.py": "Swarm",
    "tests/integration/models_nodes_test.py": "Swarm nodes",
    "tests/integration/models_services_test.py": "Swarm services",
    "tests/integration/api_network_test.py::TestNetworks::test_create_network_attachable": "Swarm (swarm/init)",
    "tests/integration/api_network_test.py::TestNetworks::test_create_network_ingress": "Swarm (swarm/init)",
    "tests/integration/api_network_test.py::TestNetworks::test_create_inspect_network_with_scope": "Swarm (swarm/init)",
    # docker-py's credential helpers, not the daemon; and utils_test replaces os.environ (DOCKER_HOST
    # gone) for every test after it
    "tests/integration/credentials": "credential helpers, not the daemon",
    "tests/integration/api_image_test.py::PullImageTest": "pulls from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_pull": "pulls from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_pull_with_tag": "pulls from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_pull_with_sha": "pulls from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_pull_multiple": "pulls from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_list": "pulls alpine from Docker Hub",
    "tests/integration/models_images_test.py::ImageCollectionTest::test_list_with_repository": "pulls alpine from Docker Hub",
    "tests/integration/models_images_test.py::ImageTest::test_tag_and_remove": "pulls alpine from Docker Hub",
    "tests/integration/api_image_test.py::ImportImageTest::test_get_load_image": "pulls hello-world from Docker Hub",
    "tests/integration/api_image_test.py::PruneImagesTest::test_prune_images": "pulls hello-world from Docker Hub",
    "tests/integration/api_image_test.py::InspectDistributionTest": "asks Docker Hub for busybox's manifest",
}


def prepare(workdir: Path) -> Path:
    """The venv (docker 7.1.0, pytest) and the sdist's tests, made once; the venv's python."""
    python = workdir / "venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(workdir / "venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", LIBRARY, "paramiko", "pytest", "pytest-timeout"],
                       check=True)
    if not (workdir / "suite" / "tests").exists():
        download = workdir / "sdist"
        subprocess.run([str(python), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", SDIST,
                        "-d", str(download)], check=True)
        with tarfile.open(next(download.glob("docker-*.tar.gz"))) as archive:
            archive.extractall(download, filter="data")
        shutil.copytree(next(download.glob("docker-*/tests")), workdir / "suite" / "tests")
    return python


def run_suite(python: Path, workdir: Path, engine: Engine, keyword: str | None) -> Path:
    """pytest over the suite (the library from the venv, never the sdist's own copy); its JUnit XML."""
    report = workdir / "report.xml"
    arguments = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "120",
                 f"--junitxml={report}", "tests/integration"]
    arguments += [f"--deselect={node}" for node in OUT_OF_SCOPE]
    if keyword:
        arguments += ["-k", keyword]
    # a HOME of its own, fresh each run, with a docker config: docker-py keeps contexts beside it
    # (without one, in the working directory, where they would outlive the run)
    home = workdir / "home"
    shutil.rmtree(home, ignore_errors=True)
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text("{}")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DOCKER_")}
    subprocess.run(arguments, cwd=workdir / "suite", env={**environment, "HOME": str(home), "DOCKER_HOST": engine.host},
                   stdout=subprocess.DEVNULL, check=False)
    return report


def summarise(report: Path) -> None:
    counts: Counter[str] = Counter()
    failures: dict[str, list[str]] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        counts[outcome] += 1
        if outcome in ("failure", "error"):
            failures.setdefault(case.get("classname", "").rpartition(".")[0], []).append(case.get("name", ""))
    print(f"passed {counts['passed']}, failed {counts['failure']}, errors {counts['error']}, "
          f"skipped {counts['skipped']}; deselected as out of scope: {len(OUT_OF_SCOPE)} entries")
    for group, names in sorted(failures.items()):
        print(f"  {group}: {len(names)}: {', '.join(sorted(names))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/berth-dockerpy"))
    parser.add_argument("-k", dest="keyword", help="only the tests pytest's -k selects")
    parser.add_argument("--engine", choices=("berthd", "dockerd"), default="berthd",
                        help="the daemon to run the suite against (dockerd: the yardstick)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    python = prepare(args.workdir)
    isolate()
    engine = start_berthd() if args.engine == "berthd" else start_dockerd()
    if engine is None:
        raise SystemExit("dockerd is not installed (docker.io)")
    try:
        for name in STAND_INS:
            engine.run("tag", "busybox:latest", name)
        started = time.monotonic()
        report = run_suite(python, args.workdir, engine, args.keyword)
        print(f"{engine.name}: the suite ran in {time.monotonic() - started:.0f} s")
        summarise(report)
    finally:
        engine.close()


if __name__ == "__main__":
    main()
