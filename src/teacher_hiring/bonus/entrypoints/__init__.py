"""How the bonus service is reached: HTTP routes and event consumers."""
