import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def test_check_deploy_with_production_settings_prints_no_warning(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    } | {
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "caseload.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "CASELOAD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output.upper().replace("NO WARNING", "")
    assert "System check identified no issues" in output


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY"}} | {
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "CASELOAD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def _settings_in_subprocess(env_overrides: dict[str, str], expression: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"DB_PREPARED_STATEMENTS"}} | {
        "SECRET_KEY": "x",
        "DATABASE_URL": "postgres://caseload@127.0.0.1:5432/caseload",
        **env_overrides,
    }
    code = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'caseload.settings'; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgresql_connections_prepare_statements_unless_turned_off():
    options = "sorted((k, v) for k, v in settings.DATABASES['default']['OPTIONS'].items() if k != 'options')"
    assert _settings_in_subprocess({}, options) == "[('prepare_threshold', 5), ('server_side_binding', True)]"
    assert _settings_in_subprocess({"DB_PREPARED_STATEMENTS": "false"}, options) == "[]"


@pytest.mark.django_db
def test_a_statement_run_often_is_prepared_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    marker = "caseload_prepared_probe"
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute(f"SELECT %s::int AS {marker}", [1])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{marker}%"])
        assert cursor.fetchone()[0] == 1
