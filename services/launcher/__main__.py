"""`python -m services.launcher`: `dropletbook-demo`."""

import sys

from services.launcher import main

sys.exit(main())
