"""``python -m benchmarks``: pin the thread pools first, then import NumPy and run."""

import sys

from .threads import pin_or_reexec

pin_or_reexec("benchmarks", sys.argv[1:])

from .run import main  # noqa: E402 - NumPy must load after the thread pools are pinned

raise SystemExit(main())
