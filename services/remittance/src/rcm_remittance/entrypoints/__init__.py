"""Remittance's HTTP API and app."""
