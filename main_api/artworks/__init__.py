"""Artworks: an artist's works, each with one image made in the artwork sizes (``/api/artworks``)."""
