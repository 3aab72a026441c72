"""The platform-free heart of Easel: types, errors, ports, router, service.

Nothing in this package imports a chat platform, an HTTP client or a SQL library.
"""
