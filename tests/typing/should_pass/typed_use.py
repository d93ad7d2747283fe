# The control: the same calls, typed right, check clean.
from mcp_storyboard.models.projects import Project
from mcp_storyboard.repositories.projects import ProjectRepository


async def fine(repo: ProjectRepository) -> Project:
    return await repo.get("p1")
