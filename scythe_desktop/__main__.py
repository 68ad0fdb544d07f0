import sys

from scythe_desktop.cli import main

sys.exit(main())
