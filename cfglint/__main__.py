"""`python -m cfglint` runs the command line."""

import sys

from cfglint.cli import main

sys.exit(main())
