"""The charge service: encounters, coded and priced service lines, and the coding review queue."""
