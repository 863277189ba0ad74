"""Other hosts' formats, in and out: Agent Skills (SKILL.md folders) loaded as skills and
validated as the reference validator does, and skills exported as Agent Skills, Codex plugins
and Codex custom agents; the MCP server lives beside them (`mcp_*` modules).

The core never imports this package: the CLI (or a host app, through
`skilldeck.interop.loading.add_agent_skills`) adds what it loads to a `Host`.
"""
