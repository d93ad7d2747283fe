import logging
from pathlib import Path

import pydantic
import pytest

from mcp_storyboard.config import Settings, redact_uri
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.errors import ConfigError


def test_defaults_use_the_embedded_backend_and_pymongo() -> None:
    settings = Settings.from_env({})
    assert settings.backend == "embedded"
    assert settings.driver == "pymongo"
    assert settings.db_name == "storyboard"


def test_mongo_url_is_accepted_as_the_original_app_used_it() -> None:
    settings = Settings.from_env({"MONGO_URL": "mongodb://db:27017"})
    assert settings.mongodb_uri == "mongodb://db:27017"
    assert settings.backend == "mongodb"


def test_mongodb_uri_wins_over_mongo_url() -> None:
    settings = Settings.from_env({"MONGO_URL": "mongodb://a", "MONGODB_URI": "mongodb://b"})
    assert settings.mongodb_uri == "mongodb://b"


def test_memory_uri_selects_the_memory_backend() -> None:
    assert Settings.from_env({"MONGODB_URI": "memory://"}).backend == "memory"


def test_cli_flags_override_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"DB_NAME": "a", "STORYBOARD_DRIVER": "pymongo"}, db_name="b", driver="motor", data_dir=str(tmp_path))
    assert (settings.db_name, settings.driver, settings.data_dir) == ("b", "motor", tmp_path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MONGODB_URI": "http://localhost"}, "MONGODB_URI must start with mongodb://"),
        ({"MONGODB_URI": "mongodb://"}, "names no host"),
        ({"STORYBOARD_DRIVER": "mongoose"}, "set it to one of: pymongo, motor"),
        ({"DB_NAME": "bad/name"}, "DB_NAME 'bad/name' is not a valid database name"),
        ({"STORYBOARD_MEDIA_MAX_BYTES": "lots"}, "STORYBOARD_MEDIA_MAX_BYTES 'lots'"),
        ({"STORYBOARD_RATE_LIMIT": "-5"}, "STORYBOARD_RATE_LIMIT '-5' is not a number of tool calls a minute"),
        ({"STORYBOARD_RATE_LIMIT": "fast"}, "STORYBOARD_RATE_LIMIT 'fast'"),
    ],
)
def test_bad_configuration_gives_a_one_line_error_naming_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert expected.lower() in str(caught.value).lower()
    assert "\n" not in str(caught.value)


def test_the_rate_limit_comes_from_the_environment_and_defaults_to_600() -> None:
    assert Settings.from_env({}).rate_limit_per_minute == 600
    assert Settings.from_env({"STORYBOARD_RATE_LIMIT": " 0 "}).rate_limit_per_minute == 0
    assert Settings.from_env({"STORYBOARD_RATE_LIMIT": "120"}).rate_limit_per_minute == 120


def test_errors_never_echo_a_password() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"MONGODB_URI": "postgres://user:hunter2@host/db"})
    assert "hunter2" not in str(caught.value)


def test_redact_uri_drops_user_info_and_options() -> None:
    assert redact_uri("mongodb://u:p@h1:1,h2:2/db?authSource=admin") == "mongodb://***@h1:1,h2:2/db"


SECRET_URI = "mongodb://alice:hunter2@db.example:27017/storyboard?authSource=admin"


def test_every_printed_form_of_the_settings_masks_the_password(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"MONGODB_URI": SECRET_URI})

    class Holder(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
        settings: Settings

    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("starting with %s", settings)
    printed = [repr(settings), str(settings), f"{settings}", repr([settings]), repr(Holder(settings=settings)), caplog.text]
    for text in printed:
        assert "hunter2" not in text and "alice" not in text
        assert "mongodb_uri='mongodb://***@db.example:27017/storyboard'" in text
    assert settings.mongodb_uri == SECRET_URI  # only the printed form is masked


@pytest.mark.parametrize(
    "uri",
    ["mongodb://alice:hun/ter2@db.example/sb", "mongodb://alice:hun?ter2@db.example/sb", "mongodb://alice:hun@ter2@db.example/sb"],
    ids=["slash", "question-mark", "at-sign"],
)
def test_redact_uri_hides_a_password_typed_without_percent_encoding(uri: str) -> None:
    assert redact_uri(uri) == "mongodb://***@db.example/sb"


async def test_a_database_that_cannot_be_used_is_reported_without_the_password() -> None:
    # An unescaped "/" in the password: the driver refuses the URI, and the error names it without the password.
    settings = Settings.from_env({"MONGODB_URI": "mongodb://alice:hun/ter2@127.0.0.1:1/sb"})
    with pytest.raises(ConfigError) as caught:
        await open_database(settings)
    assert "hun" not in str(caught.value) and "ter2" not in str(caught.value)
    assert "mongodb://***@127.0.0.1:1/sb" in str(caught.value)
