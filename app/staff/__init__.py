"""Staff sign-in: users, roles and passwords (domain only, no adapters)."""
