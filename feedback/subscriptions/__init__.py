"""Subscribers, the consent ledger, partner audiences and unsubscribing."""
