"""`python -m bot` is the same as the `newsdigest` command."""

import sys

from bot.cli import main

sys.exit(main())
