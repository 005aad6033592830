"""The web pages: the people's interface to the platform (SPEC.md section 8, docs/web.md).

A backend-for-frontend: it keeps only sign-in accounts and sessions, calls the three services'
HTTP APIs with the signed-in person's own short-lived token, and renders HTML on the server.
"""
