"""The docs an operator reads point only at what the repository has, and the README is ordered for its readers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "events" / "README.md", ROOT / "docs" / "benchmarks.md"]
TOP_LEVEL = ("layers/", "functions/", "infra/", "events/", "tests/", "bench/", "docs/", "config/", ".ci/")
# A path in backticks or a link target: what a reader would open.
PATH_IN_DOC = re.compile(r"`([^`\s]+)`|\]\(([^)\s#]+)(?:#[^)]*)?\)")
MARKDOWN_NAME = re.compile(r"\b[\w.-]+\.md\b")


def _repo_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if (ROOT / name).exists()]


def _is_repo_path(text: str) -> bool:
    return text.startswith(TOP_LEVEL) and not any(mark in text for mark in "<>*…{}|")


def test_every_path_the_docs_name_exists_in_the_repository() -> None:
    # Given the README, the samples' README and the benchmarks page
    missing = []
    for doc in DOCS:
        for code, link in PATH_IN_DOC.findall(doc.read_text(encoding="utf-8")):
            target = (code or link).rstrip(".,:;)").split(":")[0]
            if link and not link.startswith(("http://", "https://", "mailto:")):
                resolved = (doc.parent / target).resolve()
            elif _is_repo_path(target):
                resolved = ROOT / target.split(" ")[0]
            else:
                continue
            # Then each path a reader could open is there
            if not resolved.exists():
                missing.append(f"{doc.relative_to(ROOT)}: {target}")
    assert missing == []


def test_no_file_cites_a_document_the_repository_does_not_contain() -> None:
    # Given every text file the repository holds (code, tests, docs, template)
    have = {Path(name).name for name in _repo_files() if name.endswith(".md")}
    cited = []
    for name in _repo_files():
        if not name.endswith((".py", ".md", ".yaml", ".toml", ".json", ".sh")) and not name.startswith(".ci/"):
            continue
        for match in MARKDOWN_NAME.findall((ROOT / name).read_text(encoding="utf-8", errors="replace")):
            # Then every Markdown document it names is one of the repository's own
            if match not in have:
                cited.append(f"{name}: {match}")
    assert cited == []


def test_the_readme_is_ordered_for_its_readers() -> None:
    # Given the README's sections
    headings = re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    # Then they come as a newcomer needs them: what it is (with the two commands first), running it, deploying,
    # configuring, operating, how it works inside, developing
    expected = ["Running it locally", "Deploying", "Configuration reference", "Operating and troubleshooting", "How it works inside", "Developing"]
    assert [heading for heading in headings if heading in expected] == expected
    intro = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "./uvw run socialdesk demo" in intro
    assert "./uvw run pytest" in intro
