"""`python -m rcm_reporting`: serve the reporting API with its settings from the environment."""

from rcm_reporting.entrypoints.app import main

main()
