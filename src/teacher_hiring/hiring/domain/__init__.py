"""Hiring's rules, free of web, database and broker."""
