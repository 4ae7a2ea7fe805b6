"""The reporters: plain lines, the live view, GitHub Actions, JSON events."""
