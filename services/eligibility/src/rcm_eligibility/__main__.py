"""`python -m rcm_eligibility`: serve the eligibility API with its settings from the environment."""

from rcm_eligibility.entrypoints.app import main

main()
