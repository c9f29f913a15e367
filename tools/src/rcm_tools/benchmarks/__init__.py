"""Benchmarks: each prints its figures as one machine-readable JSON line, beside a baseline measured in
the same run (these machines are noisy, so ratios speak louder than absolute times)."""
