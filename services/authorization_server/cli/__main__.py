"""`python -m services.authorization_server.cli`: what the launcher runs to seed the demo."""

import sys

from services.authorization_server.cli import main

main(sys.argv[1:])
