"""The registry's errors: the OCI Distribution Spec's error codes, each with its HTTP status, and the
JSON body the spec gives them (`{"errors": [{"code", "message", "detail"}]}`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from berth.errdefs import BerthError


@dataclass(frozen=True)
class Code:
    """One of the spec's error codes, the status it is answered with, and its usual message."""

    name: str
    status: int
    message: str


BLOB_UNKNOWN = Code("BLOB_UNKNOWN", 404, "blob unknown to registry")
BLOB_UPLOAD_INVALID = Code("BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BLOB_UPLOAD_UNKNOWN = Code("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DIGEST_INVALID = Code("DIGEST_INVALID", 400, "provided digest did not match uploaded content")
MANIFEST_BLOB_UNKNOWN = Code("MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry")
MANIFEST_INVALID = Code("MANIFEST_INVALID", 400, "manifest invalid")
MANIFEST_UNKNOWN = Code("MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
NAME_INVALID = Code("NAME_INVALID", 400, "invalid repository name")
NAME_UNKNOWN = Code("NAME_UNKNOWN", 404, "repository name not known to registry")
SIZE_INVALID = Code("SIZE_INVALID", 400, "provided length did not match content length")
UNAUTHORIZED = Code("UNAUTHORIZED", 401, "authentication required")
DENIED = Code("DENIED", 403, "requested access to the resource is denied")
UNSUPPORTED = Code("UNSUPPORTED", 405, "the operation is unsupported")
# Not codes of their own in the spec, but statuses it asks for: an out-of-order chunk or an
# unsatisfiable range (416), a query parameter out of its range (400), a path the API does not have.
RANGE_INVALID = Code("BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable")
PARAMETER_INVALID = Code("UNSUPPORTED", 400, "invalid query parameter")
NOT_FOUND = Code("NAME_UNKNOWN", 404, "no such endpoint")
TOO_LARGE = Code("SIZE_INVALID", 413, "payload too large")


class RegistryError(BerthError):
    """An error the client sees in the spec's format; `headers` go with the response (a 401's challenge)."""

    def __init__(self, code: Code, message: str | None = None, detail: Any = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message or code.message)
        self.code = code
        self.message = message or code.message
        self.detail = detail
        self.headers = headers or []

    @property
    def status(self) -> int:
        return self.code.status

    def body(self) -> bytes:
        error: dict[str, Any] = {"code": self.code.name, "message": self.message}
        if self.detail is not None:
            error["detail"] = self.detail
        return json.dumps({"errors": [error]}).encode()
