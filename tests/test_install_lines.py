"""Every install line in the README and the docs installs this project, pinned to a release that exists.

The distribution is `cfglint-keras`: `cfglint` on PyPI is an unrelated project with the same import and
command names, so a line that names it (or any other distribution) installs someone else's code. The lines
are read from fenced code blocks and inline code: `pip install`, `python -m pip install`, `uv pip install`,
`pipx install`, and pre-commit `repo:`/`rev:` pins. Releases are the git tags `v<cfglint.__version__>`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import cfglint

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NAME = canonicalize_name(PROJECT["name"])
EXTRAS = frozenset(PROJECT["optional-dependencies"])
REPOSITORY = PROJECT["urls"]["Repository"]
TAG = f"v{cfglint.__version__}"
TAG_SCHEME = re.compile(r"v\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?")
# Until the distribution is on PyPI, a bare `pip install cfglint-keras` fails (or, worse, installs whatever
# someone else uploads under that name); set to True once it is published.
ON_PYPI = False

DOCS = [REPO_ROOT / "README.md", REPO_ROOT / "CHANGELOG.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
INSTALL = re.compile(r"\b(?:uv\s+pip|python3?\s+-m\s+pip|pip3?|pipx)\s+install\s+(?P<args>.*)")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
# Options that change where pip looks or what it reads would make a line install something else.
FLAG_OPTIONS = frozenset({"-U", "--upgrade", "--user", "-q", "--quiet", "--pre", "--force-reinstall"})
EDITABLE = frozenset({"-e", "--editable"})


@dataclass(frozen=True)
class Snippet:
    """A piece of code in a document: one line of a fenced block or one inline code span."""

    path: Path
    line: int
    text: str
    fenced: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


@dataclass(frozen=True)
class InstallLine:
    """One install command and the requirements it names (`-e` targets included)."""

    snippet: Snippet
    command: str
    requirements: tuple[str, ...]


def snippets(path: Path) -> list[Snippet]:
    """Fenced lines, and the inline code spans of each prose paragraph (a span may wrap a line)."""
    found: list[Snippet] = []
    fenced = False
    paragraph: list[tuple[int, str]] = []

    def end_paragraph() -> None:
        text = "\n".join(line for _, line in paragraph)
        for match in INLINE_CODE.finditer(text):
            number = paragraph[0][0] + text.count("\n", 0, match.start())
            found.append(Snippet(path, number, match.group(1).replace("\n", " "), fenced=False))
        paragraph.clear()

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            end_paragraph()
            fenced = not fenced
        elif fenced:
            found.append(Snippet(path, number, line, fenced=True))
        elif line.strip():
            paragraph.append((number, line))
        else:
            end_paragraph()
    end_paragraph()
    return found


def install_lines(paths: list[Path] = DOCS) -> list[InstallLine]:
    """Every install command in the documents, split into its requirements."""
    lines = []
    for path in paths:
        for snippet in snippets(path):
            match = INSTALL.search(snippet.text)
            if match:
                command = re.split(r"&&|;|\||\s#", match.group(0))[0].strip()
                lines.append(InstallLine(snippet, command, requirements_of(command, snippet.where)))
    return lines


def requirements_of(command: str, where: str) -> tuple[str, ...]:
    """The requirement arguments of an install command; an option that redirects pip is an error."""
    tokens = shlex.split(INSTALL.match(command).group("args"), comments=True)
    requirements = []
    tokens_left = iter(tokens)
    for token in tokens_left:
        if token in EDITABLE:
            requirements.append(next(tokens_left, ""))
        elif token.startswith("-"):
            assert token in FLAG_OPTIONS, f"{where}: `{command}` uses {token}, which may install something else"
        else:
            requirements.append(token)
    assert requirements, f"{where}: `{command}` names nothing to install"
    return tuple(requirements)


def problems_with(requirement: str) -> list[str]:
    """Why this requirement would not install this project (empty when it does)."""
    if requirement.startswith((".", "/")):
        return problems_with_path(requirement)
    if requirement.startswith("git+"):
        return problems_with_url(requirement)
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as error:
        return [f"`{requirement}` is not a requirement: {error}"]
    problems = []
    if canonicalize_name(parsed.name) != NAME:
        problems.append(f"`{parsed.name}` is not this project's distribution name `{PROJECT['name']}`")
    problems += unknown_extras(parsed.extras)
    if parsed.url:
        problems += problems_with_url(parsed.url)
    elif not ON_PYPI:
        problems.append(f"`{requirement}` asks PyPI for a distribution not published there yet: install from "
                        f"the repository (`{PROJECT['name']} @ git+{REPOSITORY}@{TAG}`) or a checkout")
    return problems


def unknown_extras(extras: set[str]) -> list[str]:
    return [f"extra `{extra}` does not exist (pyproject has {sorted(EXTRAS)})" for extra in sorted(extras - EXTRAS)]


def problems_with_path(requirement: str) -> list[str]:
    """A local path must be this checkout (README commands run from its root), with existing extras."""
    match = re.fullmatch(r"(?P<path>[^\[\]]+)(?:\[(?P<extras>[^\]]*)\])?", requirement)
    if not match:
        return [f"`{requirement}` is not a path with extras"]
    problems = []
    if (REPO_ROOT / match.group("path")).resolve() != REPO_ROOT:
        problems.append(f"`{requirement}` is not the root of this repository")
    extras = {extra.strip() for extra in (match.group("extras") or "").split(",") if extra.strip()}
    return problems + unknown_extras(extras)


def problems_with_url(url: str) -> list[str]:
    """A VCS URL must be this repository at the current release tag."""
    match = re.fullmatch(r"git\+(?P<repo>[^@#]+?)(?:\.git)?@(?P<rev>[^#]+)(?:#.*)?", url)
    if not match:
        return [f"`{url}` is not `git+<repository>@<tag>`"]
    problems = []
    if match.group("repo") != REPOSITORY:
        problems.append(f"`{url}` is not this repository ({REPOSITORY})")
    if match.group("rev") != TAG:
        problems.append(f"`{url}` pins `{match.group('rev')}`, not the current release tag `{TAG}`")
    return problems


@dataclass
class PreCommitRepo:
    """One `- repo:` entry of a pre-commit configuration shown in a document."""

    snippet: Snippet
    repo: str
    rev: str | None = None
    hook_ids: list[str] = field(default_factory=list)


def pre_commit_repos(paths: list[Path] = DOCS) -> list[PreCommitRepo]:
    """`- repo:` entries in fenced blocks, with the `rev:` and hook ids on the lines that follow them."""
    found: list[PreCommitRepo] = []
    for path in paths:
        current: PreCommitRepo | None = None
        previous_line = 0
        for snippet in (snippet for snippet in snippets(path) if snippet.fenced):
            if snippet.line != previous_line + 1:  # another block
                current = None
            previous_line = snippet.line
            if match := re.match(r"\s*-\s+repo:\s*(\S+)", snippet.text):
                current = PreCommitRepo(snippet, match.group(1))
                found.append(current)
            elif current and (match := re.match(r"\s*rev:\s*(\S+)", snippet.text)):
                current.rev = match.group(1)
            elif current and (match := re.match(r"\s*-\s+id:\s*(\S+)", snippet.text)):
                current.hook_ids.append(match.group(1))
    return found


def manifest_hook_ids() -> set[str]:
    text = (REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"^-\s+id:\s*(\S+)", text, flags=re.MULTILINE))


# --- the documents -------------------------------------------------------------------------------------------


def test_distribution_name_is_not_the_unrelated_pypi_project():
    """`cfglint` on PyPI is a configuration-file validator (1.0.0) whose command has no `check`."""
    assert NAME != "cfglint"
    assert PROJECT["scripts"] == {"cfglint": "cfglint.launch:main"}, "the command stays `cfglint`"


def test_the_scanner_finds_the_readme_install_lines():
    """Guards the scanner itself: the lines known to be in the README are seen, wherever they stand."""
    readme = [line for line in install_lines() if line.snippet.path.name == "README.md"]
    requirements = {req for line in readme for req in line.requirements}
    assert {".", ".[test]", ".[verify]", ".[lsp]"} <= requirements
    git = {req for req in requirements if "git+" in req}
    assert {f"{PROJECT['name']}{extra} @ git+{REPOSITORY}@{TAG}" for extra in ("", "[lsp]", "[verify]")} <= git
    assert any(not line.snippet.fenced for line in readme), "inline `pip install ...` in prose is checked too"
    assert any("run: pip install" in line.snippet.text for line in readme), "the GitHub Actions step"


@pytest.mark.parametrize("line", install_lines(), ids=lambda line: line.snippet.where)
def test_every_install_line_installs_this_project(line: InstallLine):
    problems = [problem for requirement in line.requirements for problem in problems_with(requirement)]
    assert not problems, f"{line.snippet.where}: `{line.command}`: " + "; ".join(problems)


@pytest.mark.parametrize("requirement, problem", [
    ("cfglint", "not this project's distribution name"),
    ("cfglint[lsp]", "not this project's distribution name"),
    ("Cfglint_Keras", "not published there yet"),
    (f"cfglint-keras[lint] @ git+{REPOSITORY}@{TAG}", "extra `lint` does not exist"),
    (f"cfglint-keras @ git+{REPOSITORY}@main", "not the current release tag"),
    ("cfglint-keras @ git+https://github.com/someone/cfglint@v0.1.0", "not this repository"),
    ("git+https://github.com/someone/cfglint", "is not `git+<repository>@<tag>`"),
    ("./fixtures", "not the root of this repository"),
    (".[docs]", "extra `docs` does not exist"),
])
def test_wrong_install_lines_are_caught(requirement: str, problem: str):
    assert any(problem in found for found in problems_with(requirement)), problems_with(requirement)


@pytest.mark.parametrize("requirement", [
    ".", ".[test]", "./[lsp,verify]", f"cfglint-keras[lsp] @ git+{REPOSITORY}@{TAG}",
    f"CFGLINT.keras @ git+{REPOSITORY}.git@{TAG}", f"git+{REPOSITORY}@{TAG}",
])
def test_right_install_lines_pass(requirement: str):
    """PEP 503 normalisation: `CFGLINT.keras` is the same distribution as `cfglint-keras`."""
    assert problems_with(requirement) == []


def test_options_that_redirect_pip_are_refused():
    with pytest.raises(AssertionError, match="--index-url"):
        requirements_of("pip install --index-url https://example.invalid/simple cfglint-keras", "x")
    assert requirements_of("uv pip install -U -e '.[lsp]'  # editor", "x") == (".[lsp]",)
    assert requirements_of("pipx install 'cfglint-keras @ git+x'", "x") == ("cfglint-keras @ git+x",)


def test_pre_commit_examples_pin_this_repository_at_the_current_tag():
    repos = pre_commit_repos()
    assert repos, "the README's pre-commit section has a `- repo:` entry"
    hook_ids = manifest_hook_ids()
    for entry in repos:
        if entry.repo in ("local", "meta"):
            continue
        where = entry.snippet.where
        assert entry.repo == REPOSITORY, f"{where}: pre-commit repo {entry.repo} is not {REPOSITORY}"
        assert entry.rev == TAG, f"{where}: pre-commit rev {entry.rev} is not the release tag {TAG}"
        assert entry.hook_ids and set(entry.hook_ids) <= hook_ids, f"{where}: hooks {entry.hook_ids} vs {hook_ids}"


def test_readme_pre_commit_rev_is_v_and_the_version():
    readme = [entry for entry in pre_commit_repos([REPO_ROOT / "README.md"]) if entry.repo == REPOSITORY]
    assert readme and {entry.rev for entry in readme} == {"v" + cfglint.__version__}
    assert TAG_SCHEME.fullmatch(TAG), f"{TAG} does not follow the tag scheme v<major>.<minor>.<patch>"


def test_github_links_to_this_project_name_its_repository():
    """One repository URL (pyproject's `Repository`) in the docs, the SARIF tool information and the links
    diagnostics carry."""
    sources = [*DOCS, REPO_ROOT / "pyproject.toml", *sorted((REPO_ROOT / "cfglint").rglob("*.py"))]
    links = {(path.relative_to(REPO_ROOT), url) for path in sources
             for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", path.read_text(encoding="utf-8"))
             if "cfglint" in url.lower()}
    assert links, "the README links the repository"
    assert {(path, url) for path, url in links if url != REPOSITORY} == set()


def test_changelog_has_a_section_and_a_link_for_this_version():
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, flags=re.MULTILINE)
    assert headings[0] == ("Unreleased", ""), "Keep a Changelog: the Unreleased section comes first"
    assert headings[1][0] == cfglint.__version__ and headings[1][1], "the newest release is this version, dated"
    assert f"[{cfglint.__version__}]: {REPOSITORY}/releases/tag/{TAG}" in text
    assert f"[Unreleased]: {REPOSITORY}/compare/{TAG}...HEAD" in text


# --- the release tag ---------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], check=False, capture_output=True, text=True, timeout=60)


def release_tag_problems(repo: Path, tag: str = TAG) -> list[str]:
    """The tag exists, is annotated, and the commit it names declares this version and pins it in its README."""
    if git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}").returncode != 0:
        return [f"tag {tag} does not exist: git tag -a {tag} -m 'cfglint {tag[1:]}' && git push origin {tag}"]
    problems = []
    if git(repo, "cat-file", "-t", f"refs/tags/{tag}").stdout.strip() != "tag":
        problems.append(f"{tag} is a lightweight tag; releases are annotated (git tag -a)")
    init = git(repo, "show", f"{tag}:cfglint/__init__.py").stdout
    if f'__version__ = "{tag[1:]}"' not in init:
        problems.append(f"the commit {tag} names does not declare __version__ = {tag[1:]!r}")
    if f"rev: {tag}" not in git(repo, "show", f"{tag}:README.md").stdout:
        problems.append(f"the README at {tag} does not pin rev: {tag}")
    return problems


def test_current_release_tag_exists():
    """Once this checkout has release tags, the README's pin must be one of them. Checkouts without tags
    (source archives, CI clones that fetch none, a repository before its first release) cannot tell."""
    if shutil.which("git") is None or git(REPO_ROOT, "rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout")
    if not git(REPO_ROOT, "tag", "--list", "v*").stdout.strip():
        pytest.skip("no release tags in this checkout (not fetched, or no release tagged yet)")
    assert release_tag_problems(REPO_ROOT) == []


# --- through pip and pre-commit, against a tagged copy of this working tree ------------------------------


@pytest.fixture(scope="module")
def tagged_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a one-commit repository tagged like a release: what the README's URLs name."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from test_precommit import clean_env, snapshot_of_this_repo

    home = tmp_path_factory.mktemp("release")
    env = clean_env(home)
    snapshot = snapshot_of_this_repo(home / "cfglint", env)
    result = subprocess.run(["git", "tag", "-a", TAG, "-m", f"cfglint {cfglint.__version__}"], cwd=snapshot,
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return snapshot


def pip_report(requirements: list[str], tmp_path: Path) -> list[dict]:
    """What `pip install` would install for these requirements (metadata built, nothing installed)."""
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                             "--disable-pip-version-check", "--quiet", "--report", str(report), *requirements],
                            capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(report.read_text(encoding="utf-8"))["install"]


@pytest.mark.slow
def test_release_tag_check_on_a_tagged_copy(tagged_snapshot: Path):
    assert release_tag_problems(tagged_snapshot) == []
    assert "does not exist" in release_tag_problems(tagged_snapshot, "v99.0.0")[0]


@pytest.mark.slow
def test_pip_installs_this_project_from_every_readme_line(tagged_snapshot: Path, tmp_path: Path):
    """The README's requirements, with the repository URL pointed at the tagged copy, resolve through pip
    to this distribution at this version with the extras asked for (pip itself refuses a `name @ url`
    whose built metadata has another name)."""
    requirements = sorted({req for line in install_lines() for req in line.requirements})
    from_git = [req.replace(REPOSITORY, tagged_snapshot.as_uri()) for req in requirements if "git+" in req]
    from_path = [str(tagged_snapshot) + req[1:].lstrip("/") for req in requirements if req.startswith(".")]
    assert from_git and from_path
    for batch in (from_git, from_path):
        installs = pip_report(batch, tmp_path)
        assert len(installs) == 1, installs
        metadata = installs[0]["metadata"]
        assert canonicalize_name(metadata["name"]) == NAME
        assert metadata["version"] == cfglint.__version__
        asked = {extra.strip() for req in batch for extras in re.findall(r"\[([^\]]*)\]", req)
                 for extra in extras.split(",")}
        assert asked and asked <= set(metadata.get("provides_extra", [])), (asked, metadata.get("provides_extra"))
    vcs = pip_report(from_git[:1], tmp_path)[0]["download_info"]["vcs_info"]
    assert vcs["requested_revision"] == TAG


@pytest.mark.slow
def test_readme_pre_commit_configuration_runs_at_its_rev(tagged_snapshot: Path, tmp_path: Path):
    """The README's pre-commit block, verbatim except for the repository URL, on a project with a bug."""
    from test_precommit import BAD_LAYER, PYPROJECT, clean_env, commit_all, git_repo, run

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(repos:\n.*?)```", readme, flags=re.DOTALL)
    assert block, "the README's pre-commit section has a `repos:` block"
    env = clean_env(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    git_repo(project, env)
    (project / ".pre-commit-config.yaml").write_text(block.group(1).replace(REPOSITORY, str(tagged_snapshot)),
                                                     encoding="utf-8")
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "layer.py").write_text(BAD_LAYER, encoding="utf-8")
    commit_all(project, env, "a layer")
    result = run([sys.executable, "-m", "pre_commit", "run", "--all-files"], project, env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "CFG101" in output and "layer.py" in output, output
