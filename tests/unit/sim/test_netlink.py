"""The fabric's commands for one endpoint (recorded, not run): the link MTU the plan asks for, on both ends."""

import subprocess

from dataplane import netlink


def recorder():
    calls = []

    def run(cmd, check=True, input=None):
        calls.append(list(cmd))
        return subprocess.CompletedProcess(cmd, 0, stdout="", stderr="")
    return calls, run


def test_endpoint_links_get_the_plans_mtu_inside_and_on_the_router_port():
    calls, run = recorder()
    fabric = netlink.Fabric(run=run)
    routers = {"blue": {"netns": "r-blue", "gateways": set()}}
    ep = {"kind": "pod", "namespace": "blue", "name": "b0", "ports": [], "links": [
        {"ifname": "ovn-udn1", "network": "blue", "addresses": ["103.103.1.5/24"], "mac": None, "role": "primary",
         "gateways": [], "mtu": 1300}]}
    assert fabric.ensure_endpoint("p-b0", ep, routers)
    port = netlink.router_port("p-b0", "ovn-udn1")
    assert ["ip", "-n", "p-b0", "link", "set", "ovn-udn1", "mtu", "1300"] in calls
    assert ["ip", "-n", "r-blue", "link", "set", port, "mtu", "1300"] in calls
    # the MTU is set before the link comes up
    assert calls.index(["ip", "-n", "p-b0", "link", "set", "ovn-udn1", "mtu", "1300"]) < \
        calls.index(["ip", "-n", "p-b0", "link", "set", "ovn-udn1", "up"])
    # unchanged plan: nothing is redone; another MTU: the endpoint is rebuilt with it
    assert not fabric.ensure_endpoint("p-b0", ep, routers)
    ep["links"][0]["mtu"] = 1400
    calls.clear()
    assert fabric.ensure_endpoint("p-b0", ep, routers)
    assert ["ip", "-n", "p-b0", "link", "set", "ovn-udn1", "mtu", "1400"] in calls
