"""Plumbing shared by every service: envelope, schema registry, outbox, inbox, relay, transports.

Nothing in this package knows about exercises, hiring or bonus.
"""
