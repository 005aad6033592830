"""The web process's own small database: sign-in accounts, password hashes and sessions.

No business data lives here: a candidate's or manager's facts stay in their service; an
account only names them (`subject_id`) so the pages can call the services as that person.
"""
