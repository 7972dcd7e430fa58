"""Users, roles, login sessions, API tokens, guards and depot scope."""
