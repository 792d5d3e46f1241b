#!/usr/bin/env python3
"""Run the simulated data plane controllers against a Kubernetes API server.

    python tests/sim/run_sim.py run   --kubeconfig KCFG [--config sim.yml] [--log-file sim.log]
    python tests/sim/run_sim.py start --kubeconfig KCFG [--config sim.yml] --pid-file sim.pid [--log-file ...]
    python tests/sim/run_sim.py stop  --pid-file sim.pid

``run`` stays in the foreground until SIGINT/SIGTERM; ``start`` runs the same in the background and returns
once the informers have synced; ``stop`` ends it cleanly. The config file (YAML or JSON) holds delays and
injected failures; every key is optional:

    ovnk:      {network_fail: ["blue/blue-network"]}
    kubevirt:  {available_delay: 2, boot_delay: 3, migration_fail: false,
                migration_delays: {PreparingTarget: 1, Running: 5}}
    dataplane: {enabled: false, blackhole_seconds: 2, leak: [[blue, green]]}
    # shortcuts: migration_fail: true  |  leak: [[blue, green]]  |  network_fail: [...]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

SHORTCUTS = {"migration_fail": "kubevirt", "network_fail": "ovnk", "leak": "dataplane",
             "blackhole_seconds": "dataplane", "boot_delay": "kubevirt"}
READY_MARK = "simulators ready"


def load_config(path):
    """Read the config file and fold the top-level shortcuts into their sections."""
    data = {}
    if path:
        text = pathlib.Path(path).read_text()
        if path.endswith(".json"):
            data = json.loads(text or "{}")
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    return normalise_config(data)


def normalise_config(data):
    out = {"ovnk": {}, "kubevirt": {}, "dataplane": {}}
    for key, value in (data or {}).items():
        if key in out and isinstance(value, dict):
            out[key].update(value)
        elif key in SHORTCUTS:
            out[SHORTCUTS[key]][key] = value
        else:
            out[key] = value
    for section in ("ovnk", "kubevirt", "dataplane"):
        if "resync_seconds" in out:
            out[section].setdefault("resync_seconds", out["resync_seconds"])
    return out


def setup_logging(log_file, verbose):
    handlers = [logging.FileHandler(log_file)] if log_file else [logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


def build(kubeconfig, config):
    from simulators.common import Kube
    from simulators.kubevirt import KubevirtSimulator
    from simulators.ovnk import OvnkSimulator

    controllers = [OvnkSimulator(Kube(kubeconfig), config["ovnk"]), KubevirtSimulator(Kube(kubeconfig), config["kubevirt"])]
    dataplane = config["dataplane"]
    if dataplane.get("enabled"):
        from dataplane.agent import DataplaneAgent

        controllers.append(DataplaneAgent(Kube(kubeconfig), dataplane))
    return controllers


def run(args):
    setup_logging(args.log_file, args.verbose)
    log = logging.getLogger("sim")
    config = load_config(args.config)
    if args.dataplane:
        config["dataplane"]["enabled"] = True
    controllers = build(args.kubeconfig, config)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for controller in controllers:
        controller.start()
    for controller in controllers:
        if hasattr(controller, "wait_ready") and not controller.wait_ready(args.timeout):
            log.warning("%s not in sync after %ss (see the errors above)", controller.name, args.timeout)
    log.info("%s (%s)", READY_MARK, ", ".join(c.name for c in controllers))
    if args.ready_file:
        pathlib.Path(args.ready_file).write_text(str(os.getpid()))
    stop.wait()
    for controller in reversed(controllers):
        controller.shutdown()
    log.info("stopped")
    return 0


def start(args):
    if not args.pid_file:
        sys.exit("start needs --pid-file")
    log_file = args.log_file or str(pathlib.Path(args.pid_file).with_suffix(".log"))
    ready = pathlib.Path(args.pid_file).with_suffix(".ready")
    if ready.exists():
        ready.unlink()
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "run", "--kubeconfig", args.kubeconfig,
           "--log-file", log_file, "--ready-file", str(ready), "--timeout", str(args.timeout)]
    if args.config:
        cmd += ["--config", args.config]
    if args.dataplane:
        cmd.append("--dataplane")
    if args.verbose:
        cmd.append("--verbose")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log_file + ".err", "a"),
                            start_new_session=True)
    pathlib.Path(args.pid_file).write_text(str(proc.pid))
    deadline = time.monotonic() + args.timeout + 30  # (run waits up to --timeout for the data plane's first sync)
    while time.monotonic() < deadline:
        if ready.exists():
            print("simulators running, pid %d, log %s" % (proc.pid, log_file))
            return 0
        if proc.poll() is not None:
            sys.exit("simulators exited with %s; see %s" % (proc.returncode, log_file))
        time.sleep(0.2)
    proc.terminate()
    sys.exit("simulators not ready after %ss; see %s" % (args.timeout, log_file))


def stop(args):
    path = pathlib.Path(args.pid_file)
    if not path.exists():
        print("not running (no %s)" % path)
        return 0
    pid = int(path.read_text().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink()
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    path.unlink()
    print("stopped pid %d" % pid)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("run", "start", "stop"))
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--config", help="YAML/JSON file with delays and injected failures")
    parser.add_argument("--log-file")
    parser.add_argument("--pid-file")
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)
    parser.add_argument("--dataplane", action="store_true", help="also run the network-namespace data plane (root)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for the informers and the data plane's first sync (start, run), "
                             "or for the process to end (stop)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.action in ("run", "start") and not args.kubeconfig:
        parser.error("--kubeconfig (or KUBECONFIG) is required")
    return {"run": run, "start": start, "stop": stop}[args.action](args)


if __name__ == "__main__":
    sys.exit(main())
