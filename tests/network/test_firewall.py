"""berth's firewall table, as `network explain` reads it back."""
from __future__ import annotations

import pytest

from berth.network.firewall import BridgeRules, Firewall, PortRule

pytestmark = pytest.mark.root


def test_the_rules_for_an_address_are_its_own_not_those_of_one_it_begins() -> None:
    firewall = Firewall(table="berth-test")
    try:
        firewall.add_bridge(BridgeRules("br-test", "10.0.0.0/24"))
        firewall.publish([PortRule("tcp", "", 8080, "10.0.0.2", 80, "br-test"),
                          PortRule("tcp", "", 8081, "10.0.0.20", 80, "br-test")])
        assert firewall.rules_for("10.0.0.2") == ["tcp dport 8080 dnat ip to 10.0.0.2:80"]
        assert firewall.rules_for("10.0.0.20") == ["tcp dport 8081 dnat ip to 10.0.0.20:80"]
    finally:
        firewall.teardown()
