"""The audit log: who did what to which organisation's data, and when."""
