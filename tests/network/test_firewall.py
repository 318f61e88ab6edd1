"""berth's firewall table, as `network explain` reads it back, and beside another firewall's. Each
test works in a network namespace of its own, never in the host's."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nftables import Nftables

from berth.network import netns
from berth.network.firewall import BridgeRules, Firewall, PortRule

pytestmark = pytest.mark.root


@pytest.fixture
def private_network(tmp_path: Path) -> Iterator[None]:
    """The test's thread in a network namespace of its own while the test runs."""
    path = tmp_path / "netns"
    netns.create(path)
    try:
        with netns.entered(str(path)):
            yield
    finally:
        netns.remove(path)


def nft(command: str) -> str:
    code, output, error = Nftables().cmd(command)
    assert code == 0, error
    return output


def test_the_rules_for_an_address_are_its_own_not_those_of_one_it_begins(private_network: None) -> None:
    firewall = Firewall(table="berth-test")
    firewall.add_bridge(BridgeRules("br-test", "10.0.0.0/24"))
    firewall.publish([PortRule("tcp", "", 8080, "10.0.0.2", 80, "br-test"),
                      PortRule("tcp", "", 8081, "10.0.0.20", 80, "br-test")])
    assert firewall.rules_for("10.0.0.2") == ["tcp dport 8080 dnat ip to 10.0.0.2:80"]
    assert firewall.rules_for("10.0.0.20") == ["tcp dport 8081 dnat ip to 10.0.0.20:80"]
    firewall.teardown()
    assert "berth-test" not in nft("list tables")


def test_a_forward_chain_that_drops_by_default_lets_berth_s_bridges_through(private_network: None) -> None:
    # what dockerd leaves when it turned forwarding on itself: iptables' filter table, policy drop
    nft("add table ip filter")
    nft("add chain ip filter FORWARD { type filter hook forward priority filter; policy drop; }")
    nft('add rule ip filter FORWARD iifname "docker0" accept')
    firewall = Firewall(table="berth-test")
    firewall.add_bridge(BridgeRules("br-one", "10.1.0.0/24"))
    firewall.add_bridge(BridgeRules("br-two", "10.2.0.0/24"))
    rules = [line.strip() for line in nft("list chain ip filter FORWARD").splitlines() if "accept" in line]
    assert sorted(rules) == sorted(['iifname "docker0" accept', *(f'{key} "{bridge}" accept comment "berth-test"'
                                                                  for bridge in ("br-one", "br-two")
                                                                  for key in ("iifname", "oifname"))])
    firewall.remove_bridge("br-one")
    firewall.teardown()
    assert [line.strip() for line in nft("list chain ip filter FORWARD").splitlines() if "accept" in line] \
        == ['iifname "docker0" accept']  # the other firewall's rule, untouched
