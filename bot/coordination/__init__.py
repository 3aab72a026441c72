"""Coordination between replicas: state shared through Redis (limits, breakers, slots) and events."""
