"""`python -m bot` runs the CLI."""

import sys

from bot.entrypoints.cli import main

sys.exit(main())
