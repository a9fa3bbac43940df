"""Platform administration: organisations, roles, the audit log and the dev outbox."""
