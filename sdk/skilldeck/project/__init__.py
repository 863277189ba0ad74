"""A skill plugin project: scaffolded from the template, loaded from its source tree, validated."""
