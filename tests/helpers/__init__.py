"""Helpers shared by the test suites (databases, generated images, the shared corpus)."""
