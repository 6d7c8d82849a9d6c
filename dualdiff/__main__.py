"""``python -m dualdiff``: the command line (see ``dualdiff.cli``)."""

import sys

from .cli import main

sys.exit(main())
