"""docker-compose.yml and the Dockerfile describe a stack that can start.

No container engine runs in CI, so these tests check what can be checked without
one: the services, the variables that configure them, and that every command names
code that exists in this repository.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
DEPLOYMENT_DOC = BASE_DIR / "docs" / "deployment.md"
SETTINGS_FILE = BASE_DIR / "unportal" / "settings.py"

DOCUMENTED_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
}
APP_SERVICES = ("web", "worker", "beat")
MODULE_ATTRIBUTE = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_]\w*)$")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def built_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run this project's image rather than a stock one."""
    return {name: service for name, service in services.items() if "build" in service}


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {name: str(value) for name, value in environment.items()}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(a) for a in command]


def dockerfile_of(service: dict[str, Any]) -> Path:
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    return BASE_DIR / build.get("context", ".") / build.get("dockerfile", "Dockerfile")


def module_file(dotted: str) -> Path:
    """Where a dotted module lives in this repository (it may not exist)."""
    path = BASE_DIR.joinpath(*dotted.split("."))
    package = path / "__init__.py"
    return package if package.exists() else path.with_suffix(".py")


def top_level_names(path: Path) -> set[str]:
    """Names a module defines or imports at its top level, read without importing."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def assert_names_a_wsgi_application(target: str) -> None:
    match = MODULE_ATTRIBUTE.match(target)
    assert match, f"{target!r} is not module:attribute"
    path = module_file(match["module"])
    assert path.is_file(), f"{target}: {path.relative_to(BASE_DIR)} does not exist"
    assert match["attr"] in top_level_names(path), f"{target}: no {match['attr']}"
    with warnings.catch_warnings():
        # whitenoise warns that the static root is missing; the image build makes it.
        warnings.simplefilter("ignore")
        module = importlib.import_module(match["module"])
    application = getattr(module, match["attr"])
    assert callable(application)
    dotted = f"{match['module']}.{match['attr']}"
    assert dotted == settings.WSGI_APPLICATION


def assert_names_the_celery_app(command: list[str]) -> None:
    assert command[0] == "celery", command
    assert "-A" in command, command
    app_name = command[command.index("-A") + 1]
    # `-A unportal` finds the app in unportal/celery.py when the package has none.
    path = module_file(f"{app_name}.celery")
    assert path.is_file(), f"-A {app_name}: {path.relative_to(BASE_DIR)} is missing"
    assert "app" in top_level_names(path)
    assert isinstance(find_app(app_name), Celery)


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    instructions = []
    for line in logical:
        keyword, _, arguments = line.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def project_dependencies() -> set[str]:
    pyproject = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())
    return {
        re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        for requirement in pyproject["project"]["dependencies"]
    }


def test_compose_defines_the_stack(services):
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert set(APP_SERVICES) <= set(built_services(services))


def test_compose_builds_app_services_from_the_dockerfile(services):
    for name, service in built_services(services).items():
        assert dockerfile_of(service).is_file(), name


def test_compose_configures_app_services_only_through_documented_variables(services):
    for name, service in built_services(services).items():
        assert "env_file" not in service, name
        environment = environment_of(service)
        assert set(environment) <= DOCUMENTED_VARIABLES, name
        assert environment.get("CELERY_TASK_ALWAYS_EAGER") == "false", name
        for required in ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"):
            assert required in environment, f"{name} lacks {required}"


def test_compose_interpolates_only_documented_variables():
    text = COMPOSE_FILE.read_text()
    interpolated = set(re.findall(r"\$\{?([A-Za-z_]\w*)", text))
    assert interpolated
    assert interpolated <= DOCUMENTED_VARIABLES


def test_documented_variables_are_read_by_settings_and_documented():
    settings_source = SETTINGS_FILE.read_text()
    doc = DEPLOYMENT_DOC.read_text()
    for variable in DOCUMENTED_VARIABLES:
        assert f'"{variable}"' in settings_source, variable
        assert f"`{variable}`" in doc, variable


def test_web_runs_gunicorn_on_the_wsgi_application(services):
    command = command_of(services["web"])
    assert command[0] == "gunicorn"
    targets = [arg for arg in command[1:] if not arg.startswith("-")]
    assert len(targets) == 1, command
    assert_names_a_wsgi_application(targets[0])


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_run_the_project_celery_app(services, service):
    command = command_of(services[service])
    assert_names_the_celery_app(command)
    assert command[command.index("-A") + 2] == service


def test_migrations_run_once_before_the_app_starts(services):
    migrate = services["migrate"]
    command = command_of(migrate)
    assert command[:3] == ["python", "manage.py", "migrate"]
    assert (BASE_DIR / "manage.py").is_file()
    assert "postgres" in migrate["depends_on"]
    for name in APP_SERVICES:
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_dockerfile_builds_a_non_root_gunicorn_image():
    dockerfile = BASE_DIR / "Dockerfile"
    instructions = dockerfile_instructions(dockerfile)
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(
        arguments for keyword, arguments in instructions if keyword == "RUN"
    )
    assert "pip install ." in runs
    assert "collectstatic" in runs

    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")

    for source in (
        arguments.split()[0] for keyword, arguments in instructions if keyword == "COPY"
    ):
        assert (BASE_DIR / source).exists(), f"COPY {source}: no such file"


def test_dockerfile_command_references_existing_code():
    instructions = dict(dockerfile_instructions(BASE_DIR / "Dockerfile"))
    command: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        if keyword in instructions:
            # Exec form only: the shell form would not forward SIGTERM to gunicorn.
            command += json.loads(instructions[keyword])
    assert command, "no CMD or ENTRYPOINT"
    assert command[0] in project_dependencies(), command[0]
    targets = [MODULE_ATTRIBUTE.match(arg) for arg in command[1:]]
    assert any(targets), command
    for arg in command[1:]:
        if MODULE_ATTRIBUTE.match(arg):
            assert_names_a_wsgi_application(arg)
        elif arg.endswith((".py", ".sh")):
            assert (BASE_DIR / arg).is_file(), arg


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((BASE_DIR / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "staticfiles"} <= ignored


def test_deployment_doc_covers_first_start():
    doc = DEPLOYMENT_DOC.read_text()
    for step in ("docker compose up", "createsuperuser", "load_reference_data"):
        assert step in doc, step
