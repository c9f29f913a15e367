"""Reporting's handlers of commands and events."""
