"""The exercises service (seed letter З): managers, exercises and their versions, complication
assignments and the payments for them, and a read-only replica of hiring's candidates."""
