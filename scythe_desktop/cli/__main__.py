"""``python -m scythe_desktop.cli``: the same as ``scythe``."""

import sys

from scythe_desktop.cli import main

sys.exit(main())
