"""``python -m gatesim.cli``."""

import sys

from gatesim.cli import main

sys.exit(main())
