"""Remittance's handlers of commands and events."""
