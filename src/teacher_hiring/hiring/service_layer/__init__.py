"""Where hiring's rules meet its storage: the unit of work and the command handlers."""
