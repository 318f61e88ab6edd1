"""How often the kernel's OOM killer struck in a container's memory cgroup (v1 or v2)."""
from __future__ import annotations

import os

from berth.runtime.cgroups import hierarchies


def oom_kill_count(cgroups_path: str) -> int:
    """The cgroup's oom_kill counter; 0 when the cgroup or the counter does not exist."""
    found = hierarchies()
    relative = os.path.normpath("/" + cgroups_path).lstrip("/")
    if "memory" in found.v1:
        counters = os.path.join(found.v1["memory"], relative, "memory.oom_control")
    elif found.v2:
        counters = os.path.join(found.v2, relative, "memory.events")
    else:
        return 0
    try:
        with open(counters) as lines:
            for line in lines:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except FileNotFoundError:
        pass
    return 0
