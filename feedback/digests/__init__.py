"""Editions: choosing what goes in, rendering each language once, the public archive."""
