"""Random container names in Docker's `adjective_surname` style (the word lists are berth's own)."""
from __future__ import annotations

import random
from collections.abc import Iterator

ADJECTIVES = (
    "agile", "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring",
    "eager", "fervent", "gentle", "happy", "humble", "jolly", "keen", "kind", "lucid", "merry",
    "misty", "nimble", "noble", "patient", "placid", "quiet", "rapid", "serene", "sharp", "steady",
    "sunny", "swift", "tender", "tidy", "vivid", "wise", "witty", "zealous",
)
SURNAMES = (
    "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday", "fermi",
    "feynman", "gauss", "goodall", "hamilton", "hopper", "hypatia", "kepler", "knuth", "lamarr",
    "lovelace", "maxwell", "meitner", "mendel", "newton", "noether", "pascal", "planck", "ritchie",
    "shannon", "thompson", "turing", "volta", "wozniak", "yalow",
)
ATTEMPTS = 6  # random names to try before the short id


def candidates(container_id: str) -> Iterator[str]:
    """Names to try for a new container, in turn: a random one, then random ones with a number, as
    dockerd retries; last its short id."""
    for attempt in range(ATTEMPTS):
        name = f"{random.choice(ADJECTIVES)}_{random.choice(SURNAMES)}"
        yield f"{name}{random.randint(1, 99)}" if attempt else name
    yield container_id[:12]
