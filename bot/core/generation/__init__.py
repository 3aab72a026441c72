"""Making images: intents to requests, the provider chain with its retries and breakers."""
