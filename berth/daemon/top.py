"""`top`: the host's `ps` output narrowed to a container's processes, as dockerd does it."""
from __future__ import annotations

import asyncio
import shlex
from typing import Any

from berth.errdefs import InvalidArgument


async def process_table(pids: list[int], ps_args: str) -> dict[str, Any]:
    """Run `ps <ps_args>` and keep the rows whose PID column is one of `pids`."""
    process = await asyncio.create_subprocess_exec(
        "ps", *shlex.split(ps_args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode != 0:
        first_line = (err.decode().strip().splitlines() or [f"exit status {process.returncode}"])[0]
        raise InvalidArgument(f"ps: {first_line}")
    lines = out.decode().splitlines()
    titles = lines[0].split()
    try:
        pid_column = titles.index("PID")
    except ValueError:
        raise InvalidArgument("Couldn't find PID field in ps output") from None
    wanted = set(pids)
    processes = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) > pid_column and fields[pid_column].isdigit() and int(fields[pid_column]) in wanted:
            processes.append(fields)
    return {"Titles": titles, "Processes": processes}
