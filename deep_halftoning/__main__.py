"""``python -m deep_halftoning``: the command line."""

import sys

from .cli import main

sys.exit(main())
