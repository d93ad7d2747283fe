"""Domain rules and use cases: pure rule modules (timeline, alternates, prompt composition, tree) and async
services that fetch through repositories, apply the rules and write. Knows repositories and models."""
