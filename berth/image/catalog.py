"""Image records and their names (tags and digests) in the metadata database.

An image is a root for garbage collection: it keeps its config blob, its top layer (and through it
every layer below) and any other blobs it was recorded with.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from berth.store import Database, References
from berth.store.gc import SCHEMA as GC_SCHEMA
from berth.store.gc import key

SCHEMA = GC_SCHEMA + [
    "CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, parent TEXT, top_layer TEXT, "
    "size INTEGER NOT NULL, created INTEGER NOT NULL, last_tag_time TEXT)",
    "CREATE INDEX IF NOT EXISTS images_parent ON images (parent)",
    "CREATE TABLE IF NOT EXISTS image_names (name TEXT PRIMARY KEY, image_id TEXT NOT NULL "
    "REFERENCES images (id))",
    "CREATE INDEX IF NOT EXISTS image_names_image ON image_names (image_id)",
]
IMAGE_KIND = "image"


@dataclass(frozen=True)
class ImageRecord:
    id: str
    parent: str | None
    top_layer: str | None  # chain ID, None for an image without layers
    size: int
    created: int  # unix seconds, from the config
    last_tag_time: str | None


class Catalog:
    def __init__(self, db: Database, refs: References) -> None:
        self.db = db
        self.refs = refs

    def add(self, conn: sqlite3.Connection, record: ImageRecord, blobs: list[str]) -> None:
        """Record an image (if new) keeping `blobs` and its top layer alive."""
        conn.execute("INSERT OR IGNORE INTO images (id, parent, top_layer, size, created, last_tag_time) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (record.id, record.parent, record.top_layer, record.size,
                                                   record.created, record.last_tag_time))
        children = [key("blob", blob) for blob in blobs]
        if record.top_layer:
            children.append(key("layer", record.top_layer))
        self.refs.add_root(conn, key(IMAGE_KIND, record.id), children)

    def delete(self, conn: sqlite3.Connection, image_id: str) -> None:
        conn.execute("DELETE FROM image_names WHERE image_id = ?", (image_id,))
        conn.execute("UPDATE images SET parent = NULL WHERE parent = ?", (image_id,))
        conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
        self.refs.remove_root(conn, key(IMAGE_KIND, image_id))

    def get(self, image_id: str) -> ImageRecord | None:
        rows = self.db.query("SELECT * FROM images WHERE id = ?", (image_id,))
        return ImageRecord(**dict(rows[0])) if rows else None

    def all(self) -> list[ImageRecord]:
        return [ImageRecord(**dict(row)) for row in self.db.query("SELECT * FROM images")]

    def ids_with_prefix(self, hex_prefix: str) -> list[str]:
        return [row[0] for row in self.db.query(
            "SELECT id FROM images WHERE substr(id, 8, ?) = ?", (len(hex_prefix), hex_prefix))]

    def children(self, image_id: str) -> list[str]:
        return [row[0] for row in self.db.query("SELECT id FROM images WHERE parent = ?", (image_id,))]

    def names_of(self, image_id: str) -> list[str]:
        return [row[0] for row in self.db.query(
            "SELECT name FROM image_names WHERE image_id = ? ORDER BY rowid", (image_id,))]

    def all_names(self) -> dict[str, list[str]]:
        names: dict[str, list[str]] = {}
        for row in self.db.query("SELECT name, image_id FROM image_names ORDER BY rowid"):
            names.setdefault(row[1], []).append(row[0])
        return names

    def lookup(self, name: str) -> str | None:
        rows = self.db.query("SELECT image_id FROM image_names WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def set_name(self, conn: sqlite3.Connection, name: str, image_id: str, when: str) -> None:
        conn.execute("DELETE FROM image_names WHERE name = ?", (name,))
        conn.execute("INSERT INTO image_names (name, image_id) VALUES (?, ?)", (name, image_id))
        conn.execute("UPDATE images SET last_tag_time = ? WHERE id = ?", (when, image_id))

    def remove_name(self, conn: sqlite3.Connection, name: str) -> None:
        conn.execute("DELETE FROM image_names WHERE name = ?", (name,))
