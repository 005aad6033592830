"""How the world reaches hiring: HTTP routes and event consumers."""
