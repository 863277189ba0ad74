"""The host: discovery of plugins through entry points, their hooks called through pluggy, and
the registry of the skills and tools they gave."""
