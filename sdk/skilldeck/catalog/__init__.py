"""Model profiles, the catalog that layers defaults, plugins, settings and the environment, and
the built-in plugin that registers the default GPT-5.4 models."""
