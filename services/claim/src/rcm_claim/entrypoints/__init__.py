"""Claim's HTTP API and app."""
