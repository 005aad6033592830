"""Process plumbing shared by the services: databases, logging, metrics, HTTP basics, workers."""
