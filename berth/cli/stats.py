"""The `stats` format context: figures docker derives from GET /containers/{id}/stats."""
from __future__ import annotations

from typing import Any

from berth.cli.contexts import FormatContext, short_id
from berth.cli.units import bytes_size, human_size


class StatsContext(FormatContext):
    DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
    FIELDS = ("BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs")
    TITLES = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
              "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O",
              "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}

    def __init__(self, requested: str, stats: dict[str, Any], trunc: bool = True) -> None:
        self.requested = requested
        self.stats = stats or {}
        self.trunc = trunc

    def Container(self) -> str:
        return self.requested

    def ID(self) -> str:
        ident = self.stats.get("id", self.requested)
        return short_id(ident) if self.trunc else ident

    def Name(self) -> str:
        return (self.stats.get("name") or "--").lstrip("/")

    def _memory(self) -> tuple[float, float]:
        memory = self.stats.get("memory_stats") or {}
        detail = memory.get("stats") or {}
        cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
        usage = max((memory.get("usage") or 0) - cache, 0)
        return usage, memory.get("limit") or 0

    def CPUPerc(self) -> str:
        cpu = self.stats.get("cpu_stats") or {}
        pre = self.stats.get("precpu_stats") or {}
        cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
        system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
        online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
        percent = cpu_delta / system_delta * online * 100.0 if cpu_delta > 0 and system_delta > 0 else 0.0
        return f"{percent:.2f}%"

    def MemUsage(self) -> str:
        usage, limit = self._memory()
        return f"{bytes_size(usage)} / {bytes_size(limit)}"

    def MemPerc(self) -> str:
        usage, limit = self._memory()
        return f"{usage / limit * 100.0 if limit else 0.0:.2f}%"

    def NetIO(self) -> str:
        networks = (self.stats.get("networks") or {}).values()
        rx = sum(n.get("rx_bytes", 0) for n in networks)
        tx = sum(n.get("tx_bytes", 0) for n in networks)
        return f"{human_size(rx)} / {human_size(tx)}"

    def BlockIO(self) -> str:
        entries = (self.stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
        read = sum(e.get("value", 0) for e in entries if str(e.get("op", "")).lower() == "read")
        write = sum(e.get("value", 0) for e in entries if str(e.get("op", "")).lower() == "write")
        return f"{human_size(read)} / {human_size(write)}"

    def PIDs(self) -> str:
        return str((self.stats.get("pids_stats") or {}).get("current", 0))
