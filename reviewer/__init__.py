"""backend-reviewer: review backend code changes against a team's guidelines."""

__version__ = "0.1.0"
