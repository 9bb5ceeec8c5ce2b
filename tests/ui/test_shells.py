"""Tests of mockserver/ui/pages.py in process: every page shell, its headers and its static
files, and which paths are open without the control token. (The browser tests drive them.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.ui import PAGES, is_shell
from mockserver.ui.pages import HERE, Page


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_each_page_is_a_shell_that_loads_only_the_mocks_own_files(
    client: TestClient, page: Page
) -> None:
    path = f"/_mock{page.path}"
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    html = response.text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == ["/_mock/ui/static/ui.js", f"/_mock/ui/static/{page.name}.js"]
    assert "<script>" not in html  # no inline script: the policy would refuse it anyway
    for asset in [*scripts, *re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)]:
        served = client.get(asset)
        assert served.status_code == 200, asset
    links = re.findall(r"<nav>(.*?)</nav>", html, re.S)[0]
    assert re.findall(r'href="([^"]+)"', links) == [f"/_mock{p.path}" for p in PAGES]
    assert f'href="{path}" class="current" aria-current="page"' in links


def test_no_file_of_the_dashboard_names_another_site() -> None:
    files = [f for f in HERE.rglob("*") if f.suffix in {".html", ".js", ".css"}]
    assert len(files) == 13  # six scripts, one style sheet, six templates
    for file in files:
        text = file.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text), file


def test_the_shells_and_static_files_are_the_only_paths_open_without_a_token() -> None:
    assert all(is_shell(f"/_mock{page.path}") for page in PAGES)
    assert is_shell("/_mock/ui/static/ui.js")
    for closed in (
        "/_mock/ui/",
        "/_mock/uix",
        "/_mock/requests",
        "/_mock/ui/static/../../state",
        "/other/ui",
        "/_mock/ui/world/x",
    ):
        assert not is_shell(closed), closed


def test_the_static_folder_holds_one_script_per_page() -> None:
    scripts = {path.stem for path in (HERE / "static").glob("*.js")}
    assert scripts == {"ui", *(page.name for page in PAGES)}
    assert {path.stem for path in Path(HERE / "templates").glob("*.html")} == {
        "base",
        *(page.name for page in PAGES),
    }
