"""The browser test needs Chromium; `make test-browser` checks for it before pytest starts."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # labserver.py
