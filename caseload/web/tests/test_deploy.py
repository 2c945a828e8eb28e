import os
import secrets
import subprocess
import sys
from pathlib import Path

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
