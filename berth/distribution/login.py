"""`docker login`'s check: do these credentials open the registry? (dockerd's /auth)"""
from __future__ import annotations

from berth.distribution.auth import Credentials
from berth.distribution.client import Registry
from berth.distribution.policy import DOCKER_HUB, RegistryPolicy
from berth.errdefs import Unauthorized

HUB_SERVER_ADDRESSES = ("", "https://index.docker.io/v1/", "index.docker.io", "docker.io")


def registry_host(server: str) -> str:
    """The registry a login's server address names (`https://host:5000/` -> `host:5000`)."""
    if server in HUB_SERVER_ADDRESSES:
        return DOCKER_HUB
    return server.split("://", 1)[-1].split("/", 1)[0]


def login(policy: RegistryPolicy, server: str, credentials: Credentials) -> str:
    """Raise Unauthorized unless the registry accepts `credentials`; the identity (refresh) token
    its token server gave, if any."""
    with Registry(policy, registry_host(server), credentials) as registry:
        assert registry.authorizer is not None and registry.endpoint is not None
        challenge = registry.authorizer.challenge
        if challenge is None:
            return ""  # the registry asks for no credentials
        if challenge.scheme == "bearer":
            return str(registry.authorizer.token_reply((), offline=True).get("refresh_token") or "")
        response = registry.request("GET", "/v2/", ())
        if response.status_code != 200:
            raise Unauthorized(f"login attempt to {registry.endpoint.url}/v2/ failed with status: "
                               f"{response.status_code} {response.reason_phrase}")
        return ""
