"""Library side of the Mimic scripts: recording, annotating and replaying demos, and their command-line plumbing."""
