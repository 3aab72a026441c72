"""Image providers: one module per vendor API, the offline renderer, and the registry that picks them."""
