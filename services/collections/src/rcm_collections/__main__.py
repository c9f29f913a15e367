"""`python -m rcm_collections`: serve the collections API with its settings from the environment."""

from rcm_collections.entrypoints.app import main

main()
