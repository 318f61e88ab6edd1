"""The OCI distribution-spec conformance suite against berth's registry (and Debian's docker-registry):
the registry's yardstick (issue 10). A measure, not part of `make test`: it needs the suite's source.

The suite (opencontainers/distribution-spec, `conformance/`, Go and ginkgo) is built here at run time,
offline: Go 1.19 and the Go libraries Debian packages come from apt (installed when missing); the
suite itself and the two libraries Debian lacks (ginkgo v2 and reggie, at the versions the suite's
go.mod names) are exported from git directories under --mirror, the copies the search tool's `fetch`
brings (`github:opencontainers/distribution-spec`, `github:onsi/ginkgo`, `github:bloodorangeio/reggie`
land in /work/.mirror/<owner>+<name>/repo). With no Go module proxy here, the suite is built in GOPATH
mode, whose minimal module compatibility resolves the `/v2` import paths. Debian's libraries are older than
some the go.mod names (gomega 1.10.3 for 1.27.8): the suite builds and runs with them, though a failed
SatisfyAny prints its matchers as Go's `%!s(...)`. Nothing is kept in the project.

Each registry runs on 127.0.0.1 with a fresh storage root and deletion enabled, once for each order of
the suite's teardown (manifests deleted before their blobs, then after), all four workflows on. Neither
registry mounts a blob without `from`, which the run declares (OCI_AUTOMATIC_CROSSMOUNT=0). Prints
passed / failed / skipped per run, and each failure's name and reason.

Usage (as root): .venv/bin/python bench/oci_conformance.py [--mirror DIR] [--suite-ref REF]
                 [--registry berth|docker-registry ...] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUITE_REPO = "opencontainers+distribution-spec"
SUITE_REF = "v1.1.1"  # the newest release; the redesign after it wants Go 1.24
SUITE_PACKAGE = "github.com/opencontainers/distribution-spec/conformance"
# modules Debian does not package (or only at an older major version): module -> its fetched repository
MIRRORED = {"github.com/onsi/ginkgo/v2": "onsi+ginkgo", "github.com/bloodorangeio/reggie": "bloodorangeio+reggie"}
DEBIAN_PACKAGES = ["golang-go", "golang-github-google-uuid-dev", "golang-gomega-dev",
                   "golang-github-opencontainers-go-digest-dev", "golang-github-go-resty-resty-dev",
                   "golang-github-asaskevich-govalidator-dev", "golang-github-mitchellh-mapstructure-dev",
                   "golang-github-go-logr-logr-dev", "golang-golang-x-sys-dev", "golang-golang-x-net-dev"]
DEBIAN_GOPATH = "/usr/share/gocode"
SUITE_NAME = "OCI Distribution Conformance Tests "  # the prefix of every spec's name in the JUnit report
REGISTRIES = ("berth", "docker-registry")


def ensure_packages(packages: list[str]) -> None:
    """apt-get install the packages not installed yet."""
    status = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
                            capture_output=True, text=True).stdout
    installed = {line.split()[0] for line in status.splitlines() if line.endswith(" installed")}
    missing = [name for name in packages if name not in installed]
    if missing:
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=environment, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=environment,
                       stdout=subprocess.DEVNULL)


def export(git_dir: Path, ref: str, destination: Path, subdir: str | None = None) -> None:
    """The tree of `ref` (or one directory of it) written under `destination`."""
    if not git_dir.is_dir():
        sys.exit(f"{git_dir} is missing: bring it with the search tool's fetch (see this script's docstring)")
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "--format=tar", ref,
                              *([subdir] if subdir else [])], capture_output=True, check=True).stdout
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")


def required_version(go_mod: str, module: str) -> str:
    matched = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(\S+)", go_mod, re.MULTILINE)
    if matched is None:
        sys.exit(f"the suite's go.mod does not require {module}")
    return matched.group(1)


def build(mirror: Path, ref: str, workdir: Path) -> Path:
    """The suite's test binary, built from `ref` in a GOPATH of its own under `workdir`."""
    gopath = workdir / "gopath"
    shutil.rmtree(gopath, ignore_errors=True)
    suite_parent = gopath / "src" / Path(SUITE_PACKAGE).parent
    export(mirror / SUITE_REPO / "repo", ref, suite_parent, "conformance")
    go_mod = (suite_parent / "conformance" / "go.mod").read_text()
    for module, repository in MIRRORED.items():
        export(mirror / repository / "repo", required_version(go_mod, module), gopath / "src" / module)
    binary = workdir / "conformance.test"
    environment = {**os.environ, "GO111MODULE": "off", "GOPATH": f"{gopath}:{DEBIAN_GOPATH}",
                   "GOCACHE": str(workdir / "gocache"), "GOFLAGS": ""}
    subprocess.run(["go", "test", "-c", "-o", str(binary), "."], cwd=suite_parent / "conformance",
                   env=environment, check=True)
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(name: str, root: Path) -> Iterator[str]:
    """The registry `name` on 127.0.0.1 over the storage root `root`, deletion enabled; its URL."""
    address = f"127.0.0.1:{free_port()}"
    if name == "berth":
        argv = [sys.executable, "-m", "berth.registry", "serve", "-a", address, "--root", str(root / "storage"),
                "--delete-enabled", "--log-level", "warning"]
    else:
        config = root / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                          f"    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true\n"
                          f"http:\n  addr: {address}\n")
        argv = ["docker-registry", "serve", str(config)]
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=Path(__file__).resolve().parent.parent)
    try:
        url = f"http://{address}"
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the registry at {url} did not start") from None
            time.sleep(0.1)


def run_suite(binary: Path, url: str, report_dir: Path, manifests_first: bool) -> Path:
    """One run of all four workflows against `url`; the JUnit report."""
    environment = {
        **os.environ, "OCI_ROOT_URL": url, "OCI_NAMESPACE": "conformance/main",
        "OCI_CROSSMOUNT_NAMESPACE": "conformance/other", "OCI_TEST_PULL": "1", "OCI_TEST_PUSH": "1",
        "OCI_TEST_CONTENT_DISCOVERY": "1", "OCI_TEST_CONTENT_MANAGEMENT": "1", "OCI_AUTOMATIC_CROSSMOUNT": "0",
        "OCI_DELETE_MANIFEST_BEFORE_BLOBS": "1" if manifests_first else "0", "OCI_HIDE_SKIPPED_WORKFLOWS": "0",
        "OCI_DEBUG": "0", "OCI_REPORT_DIR": str(report_dir),
    }
    with open(report_dir / "suite.log", "wb") as log:
        subprocess.run([str(binary), "-test.v"], cwd=report_dir, env=environment, stdout=log,
                       stderr=subprocess.STDOUT, check=False)
    return report_dir / "junit.xml"


def summarise(label: str, report: Path) -> None:
    """Print a run's counts, and each failure's name and reason."""
    counts: Counter[str] = Counter()
    failures = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = case.get("name", "")
        if not name.startswith(SUITE_NAME):
            continue  # the suite's reporters, not specs
        status = case.get("status", "")
        counts[status] += 1
        failure = case.find("failure")
        if failure is not None:
            reason = " ".join((failure.get("message") or failure.text or "").split())
            failures.append(f"    {name.removeprefix(SUITE_NAME)}: {reason[:400]}")
    print(f"{label}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    for failure in failures:
        print(failure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=Path(os.environ.get("BERTH_MIRROR", "/work/.mirror")),
                        help="where the fetched repositories are (<owner>+<name>/repo)")
    parser.add_argument("--suite-ref", default=SUITE_REF, help="tag or commit of distribution-spec to build")
    parser.add_argument("--registry", action="append", choices=REGISTRIES,
                        help="registry to test (repeatable; default: berth, and docker-registry when installed)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "berth-oci-conformance",
                        help="where the build, the storage roots, the logs and the reports go")
    args = parser.parse_args()
    registries = args.registry or [r for r in REGISTRIES if r == "berth" or shutil.which(r)]
    args.workdir.mkdir(parents=True, exist_ok=True)
    ensure_packages(DEBIAN_PACKAGES)
    binary = build(args.mirror, args.suite_ref, args.workdir)
    print(f"distribution-spec {args.suite_ref} conformance suite")
    for registry in registries:
        for manifests_first in (True, False):
            order = "manifests deleted first" if manifests_first else "blobs deleted first"
            run_dir = args.workdir / f"{registry}-{'manifests' if manifests_first else 'blobs'}-first"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir()
            with serving(registry, run_dir) as url:
                report = run_suite(binary, url, run_dir, manifests_first)
            summarise(f"{registry} ({order})", report)


if __name__ == "__main__":
    main()
