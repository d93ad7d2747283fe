from mcp_storyboard.cli import run

run()
