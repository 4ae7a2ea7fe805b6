from __future__ import annotations

import sys

from buildorch.cli.main import main

sys.exit(main())
