"""People: passwordless sign-in, roles, organisation membership, profile and deletion."""
