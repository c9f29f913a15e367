"""The eligibility service: 270/271 checks, benefits snapshots, patient estimates and prior authorisations."""
