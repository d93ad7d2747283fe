"""Rules and helpers shared by several areas: alternate naming, the scene/clip timeline, creating under a parent
that may be deleted meanwhile, and deleting what clips reference. Pure or repository-level; no service here."""
