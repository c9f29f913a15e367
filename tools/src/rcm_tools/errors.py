"""The one error type the `rcm` command reports as a short line on stderr instead of a traceback."""

from __future__ import annotations


class ToolError(Exception):
    """A failure the user can act on (a port taken, a stack not up, a service that would not start)."""
