"""Claim's adapters: tables, repositories, clients."""
