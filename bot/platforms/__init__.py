"""Platform adapters: the only modules that know a chat platform. Each translates to core types."""
