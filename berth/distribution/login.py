"""`docker login`'s check: do these credentials open the registry? (dockerd's /auth)"""
from __future__ import annotations

from berth.distribution.auth import Credentials, registry_of
from berth.distribution.client import Registry
from berth.distribution.policy import RegistryPolicy
from berth.errdefs import Unauthorized


def login(policy: RegistryPolicy, server: str, credentials: Credentials) -> str:
    """Raise Unauthorized unless the registry accepts `credentials`; the identity (refresh) token
    its token server gave, if any."""
    with Registry(policy, registry_of(server), credentials) as registry:
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
