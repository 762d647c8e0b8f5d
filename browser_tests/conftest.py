"""The browser test needs Chromium; `make test-browser` checks for it before pytest starts."""
