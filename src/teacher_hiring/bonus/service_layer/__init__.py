"""Where the rules meet storage: the unit of work and the handlers."""
