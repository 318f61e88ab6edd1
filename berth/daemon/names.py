"""Random container names in Docker's `adjective_surname` style (the word lists are berth's own)."""
from __future__ import annotations

import random

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


def random_name(taken: set[str]) -> str:
    while True:
        name = f"{random.choice(ADJECTIVES)}_{random.choice(SURNAMES)}"
        if name in taken:
            name = f"{name}{random.randint(1, 99)}"
        if name not in taken:
            return name
