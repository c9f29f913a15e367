"""`python -m rcm_claim`: serve the claim API with its settings from the environment."""

from rcm_claim.entrypoints.app import main

main()
