"""``python -m lienthong`` is the ``lienthong`` command."""

from __future__ import annotations

import sys

from lienthong.cli import main

sys.exit(main())
