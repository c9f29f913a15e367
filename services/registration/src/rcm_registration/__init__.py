"""The registration service: patients, guarantors and coverages, duplicate detection and merges."""
