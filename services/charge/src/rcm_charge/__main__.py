"""`python -m rcm_charge`: serve the charge API with its settings from the environment."""

from rcm_charge.entrypoints.app import main

main()
