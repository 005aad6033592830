"""The web pages: a backend-for-frontend over the three services' HTTP APIs (docs/web.md)."""
