"""`python -m rcm_registration`: serve the registration API with its settings from the environment."""

from rcm_registration.entrypoints.app import main

main()
