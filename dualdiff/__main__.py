"""``python -m dualdiff``: the command line (see ``dualdiff.tools.cli``)."""

import os
import sys

from .tools.cli import main

try:
    status = main()
    sys.stdout.flush()
except BrokenPipeError:  # the reader went away (``python -m dualdiff | head``): not an error
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    status = 0
sys.exit(status)
