from mcp_storyboard.cli import main

raise SystemExit(main())
