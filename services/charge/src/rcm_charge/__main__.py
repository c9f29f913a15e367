"""`python -m rcm_charge`: serve the charge API with its settings from the environment."""

from rcm_charge.entrypoints.main import main

main()
