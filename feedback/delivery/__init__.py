"""The delivery outbox, its channels (SMTP, GOV.UK Notify, the outbox folder) and receipts."""
