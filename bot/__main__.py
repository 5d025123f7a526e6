"""``python -m bot``: the same as the ``technyan-bot`` command."""

from bot.cli import main

raise SystemExit(main())
