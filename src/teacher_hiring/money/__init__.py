"""The money the platform issues, on its producers' side: which events are money, and the
record each producer (hiring, exercises) keeps of what it issued, with the operator routes
that reconciliation reads and repairs through.

Both producers use it, and a service imports no other service's package, so it sits below
them, over the messaging plumbing (which re-stages a kept envelope without knowing what it is).
"""
