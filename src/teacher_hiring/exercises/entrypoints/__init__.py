"""HTTP routes and event consumers: they parse, call a handler and translate the result."""
