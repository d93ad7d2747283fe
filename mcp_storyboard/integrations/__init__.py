"""Clients of services outside the database: HTTP downloads of media (ComfyUI, CivitAI and FaceFusion later)."""
