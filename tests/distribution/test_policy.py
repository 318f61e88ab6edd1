"""Which registries berth reaches over HTTPS only, and which also over plain HTTP: dockerd's rules."""
from __future__ import annotations

import pytest

from berth.distribution.policy import DOCKER_HUB_ENDPOINT, RegistryPolicy
from berth.errdefs import InvalidArgument


def urls(policy: RegistryPolicy, host: str) -> list[str]:
    return [endpoint.url for endpoint in policy.endpoints(host)]


def test_a_registry_is_https_only_unless_listed_or_on_loopback():
    policy = RegistryPolicy(insecure=["myregistry:5000", "10.1.0.0/16"])
    assert urls(policy, "192.0.2.9:5000") == ["https://192.0.2.9:5000"]
    assert urls(policy, "myregistry:5000") == ["https://myregistry:5000", "http://myregistry:5000"]
    assert urls(policy, "10.1.2.3:5000") == ["https://10.1.2.3:5000", "http://10.1.2.3:5000"]
    assert urls(policy, "127.0.0.1:5000") == ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]
    assert urls(policy, "[::1]:5000") == ["https://[::1]:5000", "http://[::1]:5000"]
    assert not policy.endpoints("10.1.2.3:5000")[0].verify  # insecure: HTTPS without verification first


def test_docker_hub_names_go_to_the_mirrors_first():
    policy = RegistryPolicy(mirrors=["https://mirror.example/"])
    assert urls(policy, "docker.io") == ["https://mirror.example", DOCKER_HUB_ENDPOINT]


def test_bad_entries_are_refused_as_dockerd_refuses_them():
    with pytest.raises(InvalidArgument, match="should not contain '://'"):
        RegistryPolicy(insecure=["http://myregistry:5000"])
    with pytest.raises(InvalidArgument, match="unsupported scheme"):
        RegistryPolicy(mirrors=["mirror.example"])
