"""Where a layer's compressed blobs are known to be (Docker's "v2 metadata"): for each diff ID, the
blob digests it was pulled as or pushed as, and the registry repositories that hold each. A push
looks here to skip a blob a registry has, to mount it from a sibling repository, and to send the
same bytes it sent before instead of compressing the layer again."""
from __future__ import annotations

from dataclasses import dataclass

from berth.store import Database

SCHEMA = ("CREATE TABLE IF NOT EXISTS distribution_sources (diff_id TEXT NOT NULL, digest TEXT NOT NULL, "
          "media_type TEXT NOT NULL, size INTEGER NOT NULL, registry TEXT NOT NULL, repository TEXT NOT NULL, "
          "PRIMARY KEY (diff_id, digest, registry, repository))")


@dataclass(frozen=True)
class Source:
    diff_id: str
    digest: str  # of the compressed blob
    media_type: str
    size: int
    registry: str  # host[:port]
    repository: str  # the repository's path on that registry


class Sources:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as conn:
            conn.execute(SCHEMA)

    def remember(self, source: Source) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO distribution_sources VALUES (?, ?, ?, ?, ?, ?)",
                         (source.diff_id, source.digest, source.media_type, source.size, source.registry,
                          source.repository))

    def of(self, diff_id: str) -> list[Source]:
        """What is known of the layer, most recent first."""
        rows = self.db.query("SELECT * FROM distribution_sources WHERE diff_id = ? ORDER BY rowid DESC", (diff_id,))
        return [Source(**dict(row)) for row in rows]
