"""JSON API v1: read endpoints for everyone, write endpoints for organisations' tokens."""
