"""`python -m rcm_remittance`: serve the remittance API with its settings from the environment."""

from rcm_remittance.entrypoints.app import main

main()
