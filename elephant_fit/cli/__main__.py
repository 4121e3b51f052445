"""``python -m elephant_fit.cli``: the ``elephant-fit`` command."""

import sys

from .commands import main

if __name__ == "__main__":
    sys.exit(main())
