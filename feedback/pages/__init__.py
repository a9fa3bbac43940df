"""Pages that belong to no one domain (home, health check, language choice, statements).

They sit above the domains, so ``core`` stays a library that imports none of them."""
