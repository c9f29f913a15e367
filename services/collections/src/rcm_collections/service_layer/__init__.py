"""Collections's handlers of commands and events."""
