"""The kinds of error berth raises, one vocabulary for every package (a leaf module: it imports nothing).

Each package's own errors derive from one of these kinds, so a caller catches a kind (`NotFound`)
whatever package raised it, and the API maps kinds, never classes, to HTTP statuses: an error a new
package adds is answered correctly as long as it says what kind it is. The message is what the user
reads, worded as Docker words it.
"""
from __future__ import annotations


class BerthError(Exception):
    """Base of every kind; an error of no more precise kind is a failure of the system (500)."""


class NotFound(BerthError):
    """The object named does not exist (404)."""


class InvalidArgument(BerthError):
    """The request or its input is malformed or not allowed (400)."""


class Unauthorized(BerthError):
    """The credentials are missing or wrong (401)."""


class Forbidden(BerthError):
    """The request is understood and refused (403)."""


class Conflict(BerthError):
    """The request conflicts with the object's current state (409)."""


class NotModified(BerthError):
    """The object is already as the request asks (304)."""


class Unavailable(BerthError):
    """A service the request needs cannot answer now (503)."""


class Unimplemented(BerthError):
    """berth does not have this yet (501)."""


class DataLoss(BerthError):
    """Stored data is corrupt or truncated (500)."""
