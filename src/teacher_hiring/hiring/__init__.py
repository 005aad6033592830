"""The hiring service (seed letter Н): candidates, their exercises, submissions and verdicts.

It checks answers from its own replica of exercises, so a candidate's request never waits for
another service; every consequence (ratings, bonuses, fines, complications) leaves as an event.
"""
