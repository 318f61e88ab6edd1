"""Registry authentication: the credentials a client sends (X-Registry-Auth), and the Authorization
header a registry's challenge asks for: Basic, or a Bearer token from its token server (the
distribution spec's token flow, also with a refresh token from an earlier login)."""
from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from dataclasses import dataclass

import httpx

from berth.distribution.policy import DOCKER_HUB
from berth.errdefs import InvalidArgument, Unauthorized

_PARAM = re.compile(r'(\w+)="([^"]*)"')
CLIENT_ID = "berth"
TOKEN_LIFETIME = 60  # seconds a token is trusted when its server names no lifetime (the spec's default)


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""  # a refresh token from an earlier login
    registry_token: str = ""  # a bearer token to send as it is

    @classmethod
    def from_header(cls, value: str | None) -> Credentials:
        """Decode X-Registry-Auth: base64url JSON of Docker's AuthConfig (empty: anonymous)."""
        return cls.from_auth_config(_decode(value))

    @classmethod
    def for_registry(cls, header: str | None, host: str) -> Credentials:
        """The entry for registry `host` in X-Registry-Config (base64url JSON: server -> AuthConfig,
        Docker Hub's under its index URL), as a build's client sends all it has."""
        configs = _decode(header)
        for server, config in configs.items():
            if isinstance(config, dict) and registry_of(server) == host:
                return cls.from_auth_config(config)
        return cls()

    @classmethod
    def from_auth_config(cls, config: dict) -> Credentials:
        username, password = config.get("username") or "", config.get("password") or ""
        if config.get("auth") and not username:
            decoded = base64.b64decode(config["auth"]).decode(errors="replace")
            username, _, password = decoded.partition(":")
        return cls(username, password, config.get("identitytoken") or "", config.get("registrytoken") or "")

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.identity_token or self.registry_token)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str]

    @classmethod
    def parse(cls, header: str) -> Challenge | None:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() not in ("basic", "bearer"):
            return None
        return cls(scheme.lower(), dict(_PARAM.findall(rest)))


class Authorizer:
    """The Authorization header for requests to one registry, per set of scopes (tokens cached)."""

    def __init__(self, http: httpx.Client, credentials: Credentials) -> None:
        self.http = http
        self.credentials = credentials
        self.challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def headers(self, scopes: tuple[str, ...]) -> dict[str, str]:
        if self.credentials.registry_token:
            return {"Authorization": f"Bearer {self.credentials.registry_token}"}
        if self.challenge is None:
            return {}
        if self.challenge.scheme == "basic":
            if not self.credentials.username:
                return {}
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        with self._lock:
            token, expires = self._tokens.get(scopes, ("", 0.0))
            if time.monotonic() >= expires:
                token, lifetime = self.fetch_token(scopes)
                expires = time.monotonic() + max(lifetime - 5, 1)
                self._tokens[scopes] = (token, expires)
        return {"Authorization": f"Bearer {token}"}

    def forget(self, scopes: tuple[str, ...]) -> None:
        """The registry refused a token: fetch a new one next time."""
        with self._lock:
            self._tokens.pop(scopes, None)

    def fetch_token(self, scopes: tuple[str, ...], offline: bool = False) -> tuple[str, int]:
        """A bearer token for `scopes` from the challenge's realm, and its lifetime in seconds."""
        reply = self.token_reply(scopes, offline)
        token = reply.get("token") or reply.get("access_token")
        if not isinstance(token, str) or not token:
            raise Unauthorized("authorization server did not include a token in the response")
        return token, int(reply.get("expires_in") or TOKEN_LIFETIME)

    def token_reply(self, scopes: tuple[str, ...], offline: bool = False) -> dict:
        """The token server's JSON answer (a refresh token too when `offline`, as `login` wants)."""
        assert self.challenge is not None
        realm = self.challenge.params.get("realm")
        if not realm:
            raise Unauthorized("the registry's Bearer challenge names no realm")
        service = self.challenge.params.get("service", "")
        if self.credentials.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": self.credentials.identity_token,
                    "service": service, "client_id": CLIENT_ID, "scope": " ".join(scopes)}
            response = self.http.post(realm, data=form)
        else:
            params: list[tuple[str, str | int | float | bool | None]] = [("service", service)] if service else []
            params += [("scope", scope) for scope in scopes]
            if offline:
                params += [("offline_token", "true"), ("client_id", CLIENT_ID)]
            auth = (self.credentials.username, self.credentials.password) if self.credentials.username else None
            response = self.http.get(realm, params=params, auth=auth)
        if response.status_code in (401, 403):
            raise Unauthorized(f'Get "{realm}": unauthorized: {_error_text(response) or "incorrect username or password"}')
        if response.status_code != 200:
            raise Unauthorized(f'Get "{realm}": token server answered {response.status_code}')
        try:
            reply = response.json()
        except ValueError:
            raise Unauthorized(f'Get "{realm}": the token server answered no JSON') from None
        return reply if isinstance(reply, dict) else {}


def _decode(header: str | None) -> dict:
    """An X-Registry-Auth or X-Registry-Config header's JSON object (empty for none)."""
    if not header:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)) or b"{}")
    except (binascii.Error, ValueError):
        raise InvalidArgument("invalid registry credentials header: not base64url-encoded JSON") from None
    return value if isinstance(value, dict) else {}


def registry_of(server: str) -> str:
    """The registry host a credentials key names (`https://index.docker.io/v1/` -> docker.io)."""
    host = server.split("://", 1)[-1].split("/", 1)[0]
    return DOCKER_HUB if host in ("index.docker.io", "registry-1.docker.io", DOCKER_HUB, "") else host


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")
    return str(body.get("details") or body.get("message") or "") if isinstance(body, dict) else ""
