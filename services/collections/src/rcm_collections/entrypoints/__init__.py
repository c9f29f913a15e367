"""Collections's HTTP API and app."""
