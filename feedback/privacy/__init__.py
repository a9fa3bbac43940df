"""Keeping personal data no longer than needed: account erasure across domains and the
retention job. What is held, where and for how long: docs/privacy.md."""
