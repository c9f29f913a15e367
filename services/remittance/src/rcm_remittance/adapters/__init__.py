"""Remittance's adapters: tables, repositories, clients."""
