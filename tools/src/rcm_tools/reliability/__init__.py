"""The reliability proof (`rcm prove`, `make soak`, `tests/reliability/`): faults injected into the running stack
while claims flow, and every claim and cent accounted for afterwards."""
