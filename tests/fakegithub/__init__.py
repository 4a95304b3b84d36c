"""A fake GitHub API server for end-to-end tests of `review github` through real PyGithub.

See server.FakeGitHub for the test-facing API and fixtures.fake_github for the pytest fixture.
"""

from fakegithub.server import FakeGitHub
from fakegithub.state import PullFile

__all__ = ["FakeGitHub", "PullFile"]
