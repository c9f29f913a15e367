"""rcm_tools: the `rcm` command that runs the platform on a laptop or a CI machine.

It starts the embedded Kafka-protocol broker and the services as local processes, mints tokens for them,
verifies audit chains and drives a synthetic practice through the running stack.
"""
