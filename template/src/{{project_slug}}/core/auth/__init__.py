"""Accounts: registration, login, JWT access and rotating refresh tokens, roles."""
