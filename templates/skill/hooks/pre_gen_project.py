"""Refuse a skill name that breaks the Agent Skills rules before anything is written.

`skilldeck new` checks the name itself; this hook keeps plain `cookiecutter` runs honest too.
"""

import re
import sys

NAME = {{ cookiecutter.skill_name | quoted }}
# The model calls the tools NAME__word_count and NAME__summarize; the Responses API allows
# function names of at most 64 characters.
LONGEST = 64 - len("__word_count")

if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", NAME) or len(NAME) > LONGEST:
    sys.exit(
        f"error: {NAME!r} is not a valid skill name: use 1 to {LONGEST} lowercase letters, "
        "digits and single hyphens, not starting or ending with a hyphen (e.g. invoice-extractor)"
    )
