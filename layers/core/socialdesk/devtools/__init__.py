"""Developer tools: sample events and their test secrets. Not used by any Lambda handler."""
