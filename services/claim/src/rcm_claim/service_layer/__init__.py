"""Claim's handlers of commands and events."""
