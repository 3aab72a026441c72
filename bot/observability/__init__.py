"""Monitoring: the Prometheus implementation of the core's ``Metrics`` port."""
