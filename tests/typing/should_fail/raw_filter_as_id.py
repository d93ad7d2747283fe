# A caller's filter dict is not an id: repositories take typed keys.
from mcp_storyboard.repositories.projects import ProjectRepository


async def leak(repo: ProjectRepository) -> None:
    await repo.get({"$ne": None})
