"""Resolve `-u user[:group]` against the image's own /etc/passwd and /etc/group, as Docker does."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from berth.errdefs import InvalidArgument


class UserError(InvalidArgument):
    pass


@dataclass
class ResolvedUser:
    uid: int
    gid: int
    additional_gids: list[int]  # the primary gid first, as Docker sets them
    home: str


def _read_table(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve_user(rootfs: Path, spec: str) -> ResolvedUser:
    """Turn `name`, `uid`, `name:group`, `uid:gid` into numeric ids using files inside `rootfs`."""
    user, _, group = (spec or "0").partition(":")
    anonymous = not user  # `:group`: uid 0, without the supplementary groups of a user it names
    user = user or "0"
    passwd = [row for row in _read_table(rootfs / "etc/passwd") if len(row) >= 6]
    groups = [row for row in _read_table(rootfs / "etc/group") if len(row) >= 3]
    entry = next((row for row in passwd if row[0] == user or (user.isdigit() and row[2] == user)), None)
    if entry is not None:
        uid, gid, home, name = int(entry[2]), int(entry[3]), entry[5], entry[0]
    elif user.isdigit():
        uid, gid, home, name = int(user), 0, "/", None
    else:
        raise UserError(f"unable to find user {user}: no matching entries in passwd file")
    if group:
        gid = _gid(groups, group)
    memberships = sorted({int(row[2]) for row in groups
                          if name is not None and not anonymous and len(row) >= 4 and name in row[3].split(",")
                          and int(row[2]) != gid})
    # As dockerd: the supplementary groups are the primary group, then the user's memberships.
    return ResolvedUser(uid, gid, [gid, *memberships], home or "/")


def resolve_groups(rootfs: Path, names: list[str]) -> list[int]:
    """`--group-add` names or numbers -> gids, from the image's /etc/group."""
    groups = [row for row in _read_table(rootfs / "etc/group") if len(row) >= 3]
    try:
        return [_gid(groups, name) for name in names]
    except UserError as error:
        raise UserError(str(error).capitalize()) from None  # dockerd's words for --group-add


def _gid(groups: list[list[str]], group: str) -> int:
    entry = next((row for row in groups if row[0] == group or (group.isdigit() and row[2] == group)), None)
    if entry is not None:
        return int(entry[2])
    if group.isdigit():
        return int(group)
    raise UserError(f"unable to find group {group}: no matching entries in group file")
