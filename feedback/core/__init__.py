"""Shared building blocks: Markdown, security headers, input checks, pagination,
small-number suppression, languages, mail and error pages."""
