"""`python -m rcm_clearinghouse_sim`: serve the simulator with its settings from the environment."""

from rcm_clearinghouse_sim.entrypoints.app import main

main()
