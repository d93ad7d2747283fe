"""What authentication costs per request on the embedded backend: verifying an API token (prefix lookup, SHA-256,
owner lookup; the last-use write happens once a minute) against a raw ``find_one`` by id, and against what one
bcrypt check at cost 12 would cost (the reason tokens are not bcrypt-hashed). Prints medians and ratios; asserts
nothing.

    .venv/bin/python -m tests.benchmarks.bench_tokens [--tokens 1000] [--rounds 300]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.models.users import User
from mcp_storyboard.server.auth import StoredTokenVerifier
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.users import PasswordHasher
from tests.benchmarks.bench_repositories import median_us

PASSWORD = "correct horse battery staple"


async def bench(uri: str, tokens: int, rounds: int) -> dict[str, float]:
    database = await open_database(Settings(mongodb_uri=uri, db_name="bench_tokens"), uri=uri, backend="embedded")
    try:
        await database.client.drop_database("bench_tokens")
        await ensure_indexes(database)
        services = Services.over(database)
        owner = await services.users.repo.insert(User(username="bench", email="bench@example.com", hashed_password="x"))
        for i in range(tokens - 1):
            await services.users.tokens.create(owner.id, f"t{i}")
        issued = await services.users.tokens.create(owner.id, "measured")
        verifier = StoredTokenVerifier.over(services.users.tokens)
        raw = database.collection("api_tokens")
        hasher = PasswordHasher()
        hashed = await hasher.hash(PASSWORD)
        return {
            "find_one by id (raw driver)": await median_us(lambda: raw.find_one({"id": issued.record.id}), rounds),
            "verify_token (StoredTokenVerifier)": await median_us(lambda: verifier.verify_token(issued.token), rounds),
            "refuse an unknown token": await median_us(
                lambda: verifier.verify_token("sbk_000000000000_" + "A" * 43), rounds),
            "one bcrypt check at cost 12": await median_us(lambda: hasher.verify(PASSWORD, hashed), min(rounds, 20)),
        }
    finally:
        await database.client.drop_database("bench_tokens")
        await database.close()


async def main(tokens: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        uri = server.start()
        try:
            figures = await bench(uri, tokens, rounds)
        finally:
            server.stop()
    print(f"embedded, {tokens} tokens stored, {rounds} rounds (median µs)")
    for label, value in figures.items():
        print(f"  {label:<40}{value:>12.0f}")
    base = figures["find_one by id (raw driver)"]
    verify = figures["verify_token (StoredTokenVerifier)"]
    print(f"  verify / raw find_one: {verify / base:.2f}x; a bcrypt-hashed token would cost "
          f"{figures['one bcrypt check at cost 12'] / verify:.0f}x a verification")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    anyio.run(main, args.tokens, args.rounds)
