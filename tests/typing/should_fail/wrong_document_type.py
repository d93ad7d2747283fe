# A repository returns its own document type, not another collection's.
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.repositories.projects import ProjectRepository


async def confuse(repo: ProjectRepository) -> Clip:
    return await repo.get("p1")
