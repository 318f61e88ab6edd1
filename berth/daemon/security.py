"""HostConfig.SecurityOpt: dockerd's accepted options, and the seccomp filter they give a container."""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from berth.daemon.seccomp_default import DEFAULT_PROFILE
from berth.daemon.seccomp_profile import ProfileError, load_profile, oci_seccomp
from berth.errdefs import InvalidArgument
from berth.strconv import parse_bool


class SecurityOptions(NamedTuple):
    seccomp: str  # "" for the default profile, "unconfined", or a profile's JSON
    no_new_privileges: bool


def parse_security_opts(options: list[str] | None) -> SecurityOptions:
    """`key=value` or `key:value` options, as dockerd reads them; label and apparmor are accepted
    and have no effect (this host has neither SELinux nor AppArmor confinement for containers)."""
    seccomp, no_new_privileges = "", False
    for option in options or []:
        if option == "no-new-privileges":
            no_new_privileges = True
            continue
        key, separator, value = option.partition("=")
        if not separator:
            key, separator, value = option.partition(":")
        if not separator:
            raise InvalidArgument(f"invalid --security-opt 1: {json.dumps(option)}")
        if key == "seccomp":
            seccomp = value
        elif key == "no-new-privileges":
            try:
                no_new_privileges = parse_bool(value)
            except ValueError:
                raise InvalidArgument(f"invalid --security-opt 2: {json.dumps(option)}") from None
        elif key not in ("label", "apparmor"):
            raise InvalidArgument(f"invalid --security-opt 2: {json.dumps(option)}")
    return SecurityOptions(seccomp, no_new_privileges)


def check_security_opts(host_config: Mapping[str, Any]) -> None:
    """Refuse at create what would fail at start: an unknown option or a malformed profile."""
    seccomp = parse_security_opts(host_config.get("SecurityOpt")).seccomp
    if seccomp and seccomp != "unconfined":
        try:
            load_profile(seccomp)
        except ProfileError as error:
            raise InvalidArgument(str(error)) from None


def seccomp_section(host_config: Mapping[str, Any], capabilities: list[str], daemon_profile: str = "") -> dict[str, Any] | None:
    """The spec's linux.seccomp: none for a privileged or unconfined container. A container's own
    `seccomp=` option wins over the daemon's profile (`daemon_profile`: "" or "builtin" for berth's
    default, "unconfined", or a profile's JSON)."""
    profile = parse_security_opts(host_config.get("SecurityOpt")).seccomp or daemon_profile
    if host_config.get("Privileged") or profile == "unconfined":
        return None
    if profile in ("", "builtin"):
        return oci_seccomp(DEFAULT_PROFILE, capabilities)
    return oci_seccomp(_parsed(profile), capabilities)


@lru_cache(maxsize=8)
def _parsed(profile: str) -> dict[str, Any]:
    """A profile's JSON, parsed once (the daemon's own is used by every container)."""
    return load_profile(profile)
