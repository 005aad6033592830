"""The fault-injection run: simulated users at work while processes die, events arrive twice
or late, poison reaches the topics and databases go away for a moment; then the checks that
nothing a user was told, and no cent, was lost or doubled (docs/chaos.md)."""
