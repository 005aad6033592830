"""Handlers and the unit of work: where the rules meet storage and the outbox."""
