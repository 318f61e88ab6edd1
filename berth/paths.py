"""Default locations, shared by the daemon and the CLI."""

DEFAULT_DATA_ROOT = "/var/lib/berth"
DEFAULT_EXEC_ROOT = "/run/berth"
DEFAULT_SOCKET = "/run/berth/berth.sock"
DEFAULT_HOST = "unix://" + DEFAULT_SOCKET
DEFAULT_CONFIG = "/etc/berth/daemon.json"
