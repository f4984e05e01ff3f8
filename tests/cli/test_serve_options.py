"""``hashnation serve`` options of the web app's guards: rate limit, CORS origins, log level."""

from __future__ import annotations

import pytest
import typer.testing

from hashnation.cli.main import app
from hashnation.web.app import WebSettings

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--rate-limit-per-minute", "-1"], "--rate-limit-per-minute"),
        (["--cors-origin", "ftp://example.org"], "--cors-origin"),
        (["--cors-origin", "https://example.org/path"], "--cors-origin"),
        (["--log-level", "loud"], "--log-level"),
    ],
)
def test_bad_guard_options_are_refused_before_serving(args: list[str], field: str) -> None:
    result = runner.invoke(app, ["serve", "--no-registry", "--no-mining", *args])
    assert result.exit_code == 2
    assert field in result.output


def test_the_settings_travel_to_worker_processes() -> None:
    settings = WebSettings(rate_limit_per_minute=0, cors_origins=("https://a.example",))
    again = WebSettings.from_environment(settings.to_environment())
    assert again.rate_limit_per_minute == 0
    assert again.cors_origins == ("https://a.example",)
