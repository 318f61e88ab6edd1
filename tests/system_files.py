"""What the suite reads from outside the repository must come from a package that
`scripts/system-deps.sh` installs (a fresh machine once failed `make test` on schemas only the
developer's machine had). An audit hook notes every file the test process opens under /usr/share
and /usr/lib; at the end of the session each is looked up with dpkg, and one whose package the
script does not name fails the session."""
from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

WATCHED = ("/usr/share/", "/usr/lib/")
SYSTEM_DEPS = Path(__file__).resolve().parents[1] / "scripts" / "system-deps.sh"
_opened: set[str] = set()
_IGNORED = tuple(sorted({sysconfig.get_path(name) + "/" for name in ("stdlib", "platstdlib", "purelib", "platlib")}
                        | {sys.prefix + "/", sys.base_prefix + "/", "/usr/lib/python3/dist-packages/"}))


def _audit(event: str, args: tuple) -> None:
    if event == "open" and isinstance(path := args[0], str) and path.startswith(WATCHED) \
            and not path.startswith(_IGNORED):
        _opened.add(path)


def watch() -> None:
    sys.addaudithook(_audit)


def named_packages() -> set[str]:
    """The packages `scripts/system-deps.sh` installs."""
    found = re.search(r"packages=\(([^)]*)\)", SYSTEM_DEPS.read_text())
    assert found, f"no packages=(...) in {SYSTEM_DEPS}"
    return set(re.sub(r"#[^\n]*", "", found.group(1)).split())


def unlisted() -> list[str]:
    """The files read under /usr whose package the script does not install ("path (package)")."""
    packages = named_packages()
    gaps = []
    for path in sorted(_opened):
        if not Path(path).exists():
            continue
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        owners = {line.split(":")[0] for line in owner.stdout.splitlines() if ":" in line}
        if not owners & packages:
            gaps.append(f"{path} ({', '.join(sorted(owners)) or 'no package'})")
    return gaps
