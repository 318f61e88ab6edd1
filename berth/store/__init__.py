"""Content-addressed blobs, the metadata database, and garbage collection. Knows nothing of images."""
from berth.store.blobs import BlobNotFound, BlobStore, BlobWriter
from berth.store.db import Database
from berth.store.digest import DigestMismatch, InvalidDigest
from berth.store.gc import Collected, References, Sweeper

__all__ = ["BlobNotFound", "BlobStore", "BlobWriter", "Collected", "Database", "DigestMismatch",
           "InvalidDigest", "References", "Sweeper"]
