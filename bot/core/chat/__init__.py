"""Chat use cases: routing, the service that talks, quick answers, the front door."""
