"""Replace the `berth` script pip wrote with one that starts Python without `site` (`-S`).

`site` (the venv's site-packages and their .pth files) costs every `berth` command 1-2 ms of its
start-up; the common commands need only the standard library and berth itself. berth.cli.main
runs `site` itself before a command that needs an installed package (click, for instance).

Usage: python scripts/cli_launcher.py VENV_BIN_DIR
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    bin_dir = Path(sys.argv[1]).resolve()
    script = bin_dir / "berth"
    text = (f"#!{bin_dir / 'python'} -S\n"
            "import sys\n"
            f"sys.path.insert(0, {str(ROOT)!r})\n"
            "from berth.cli.main import main\n"
            "main()\n")
    temp = script.with_suffix(".tmp")
    temp.write_text(text)
    temp.chmod(0o755)
    os.replace(temp, script)


if __name__ == "__main__":
    main()
