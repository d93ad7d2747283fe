"""Domain rules and use cases, one package per area (``clips``, ``scenes``, ``projects``, ``characters``,
``styles``, ``media``; shared rules in ``common``), each exporting its service; ``container`` builds them all
over one ``Repositories``. Services know repositories and models, never the container or the server."""
