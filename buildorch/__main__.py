from __future__ import annotations

import sys

from buildorch.cli import main

sys.exit(main())
