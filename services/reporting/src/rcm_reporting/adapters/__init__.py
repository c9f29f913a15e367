"""Reporting's adapters: tables, repositories, clients."""
