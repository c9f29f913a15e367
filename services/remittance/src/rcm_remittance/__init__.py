"""The remittance service."""
