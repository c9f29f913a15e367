"""Reporting's domain: plain Python, no I/O and no framework imports."""
