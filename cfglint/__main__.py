"""`python -m cfglint` runs the command line."""

import sys

from cfglint.launch import main

sys.exit(main())
