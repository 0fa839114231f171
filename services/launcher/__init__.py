"""`dropletbook-demo` (`make demo`): the whole demo with one command.

Seeds the demo data (idempotently), starts the authorization server, the resource server and
Dropletbook as three uvicorn processes on 127.0.0.1 with SQLite under `./data`, waits until
each is healthy, prints what to open, streams their logs with a prefix each, and stops all
three on Ctrl-C or SIGTERM. Running it again keeps the data. Other `AS_*`, `RS_*` and
`CLIENT_*` variables are passed on (e.g. `AS_OPEN_REGISTRATION=true make demo`); the URLs,
databases and demo secrets are the launcher's.
"""

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from services.launcher.configuration import DEFAULT_PORTS, Service, build_services, parse_ports
from services.launcher.supervision import ROOT, Launcher, Printer, port_in_use
from shared.db import private_directory


def banner(services: list[Service], host: str) -> str:
    auth, api, client = (service.url(host) for service in services)
    email = os.environ.get("AS_DEMO_USER_EMAIL", "demo@example.com")
    password = os.environ.get("AS_DEMO_USER_PASSWORD", "demo-password")
    ttl = os.environ.get("AS_ACCESS_TOKEN_TTL", "3600")
    return f"""
================================================================================
 Dropletbook demo is running. Open Dropletbook in your browser:

     {client}

 and log in at Droplet Cloud as   {email}   /   {password}

   authorization server   {auth}   (developer portal: {auth}/developer/apps)
   resource server (API)  {api}   (API docs: {api}/docs)
   flow inspector         {client}/inspector

 Access tokens live {ttl} s. To watch Dropletbook refresh one after the API's 401,
 start the demo with short-lived ones:  AS_ACCESS_TOKEN_TTL=60 make demo
 (or press "Refresh now" on the dashboard).

 Press Ctrl-C to stop all three services.
================================================================================
"""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dropletbook-demo", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the three services listen on and their URLs use (default 127.0.0.1)",
    )
    parser.add_argument(
        "--ports",
        type=parse_ports,
        default=parse_ports(os.environ.get("DROPLETBOOK_PORTS", DEFAULT_PORTS)),
        help=f"AS,RS,CLIENT ports (default {DEFAULT_PORTS}, or DROPLETBOOK_PORTS)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("DROPLETBOOK_DATA_DIR", ROOT / "data")),
        help="where the SQLite files live (default ./data, or DROPLETBOOK_DATA_DIR)",
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for the three services to be healthy (default 60)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    printer = Printer(sys.stdout)
    busy = [port for port in args.ports if port_in_use(args.host, port)]
    if busy:
        printer.line(f"launcher | port(s) {busy} already in use: is the demo running already?")
        return 1
    private_directory(args.data_dir)
    services = build_services(args.host, args.ports, args.data_dir)
    launcher = Launcher(services, host=args.host, printer=printer)

    def request_stop(signum: int, _: object) -> None:
        launcher.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    status = 0
    try:
        launcher.seed()
        launcher.start(args.startup_timeout)
        printer.line(banner(services, args.host))
        while not launcher.stopping.wait(0.5):
            launcher.check_alive()
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        printer.line(f"launcher | {exc}")
        status = 1
    finally:
        printer.line("launcher | stopping the services…")
        launcher.stop()
        printer.line("launcher | all services stopped")
    return status
