"""``python -m deep_halftoning.cli``: the command line."""

import sys

from . import main

sys.exit(main())
