"""Reporting's HTTP API and app."""
