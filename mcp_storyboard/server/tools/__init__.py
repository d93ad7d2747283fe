"""Tool modules, one per toolset or family; each declares ``TOOLSET`` and a ``ToolRegistry`` (see ``registry``)."""
