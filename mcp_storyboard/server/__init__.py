"""The MCP layer: tool declarations, policy filters, error translation, prompts and completions over services."""
