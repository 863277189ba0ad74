"""The host: discovery of plugins through entry points (`discovery`), their hooks called through
pluggy (`hooks`), the registry of the skills and tools they gave (`registry`), and the facade
that wires these to the catalog and the dispatcher (`host`)."""
