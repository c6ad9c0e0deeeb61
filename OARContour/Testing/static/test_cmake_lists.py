"""Static checks of the CMake build files and the Extensions Index entry (no Slicer, no CMake).

The packaged extension contains only the files that ``OARContour/CMakeLists.txt`` lists, so a module
that works from the source tree can be missing after installation from the Extensions Manager.
These tests compare the lists with the disk and keep the top-level metadata and
``OARContour.json`` consistent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_DIR = REPO_ROOT / "OARContour"
TOP_CMAKE = REPO_ROOT / "CMakeLists.txt"
MODULE_CMAKE = MODULE_DIR / "CMakeLists.txt"
TESTING_CMAKE = MODULE_DIR / "Testing" / "CMakeLists.txt"
INDEX_JSON = REPO_ROOT / "OARContour.json"
PYPROJECT = REPO_ROOT / "pyproject.toml"

CATALOG_SCHEMA = (
    "https://raw.githubusercontent.com/Slicer/Slicer/main/Schemas/"
    "slicer-extension-catalog-entry-schema-v1.0.2.json#"
)
# Properties allowed by catalog schema v1.0.2 ("additionalProperties": false).
CATALOG_PROPERTIES = {
    "$schema", "category", "scm_url", "scm_revision", "scm_type", "build_dependencies",
    "dicom_support_rule", "build_subdirectory", "enabled", "tier",
}
CATALOG_REQUIRED = {"$schema", "category", "scm_url"}
EXTENSION_VARIABLES = ("HOMEPAGE", "CATEGORY", "CONTRIBUTORS", "DESCRIPTION", "ICONURL", "SCREENSHOTURLS", "DEPENDS")

# A quoted argument, or an unquoted one (no blanks, parentheses or quotes).
_ARGUMENT = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s()"]+')
_COMMAND = re.compile(r'([A-Za-z_]\w*)\s*\(((?:"(?:[^"\\]|\\.)*"|[^()"])*)\)')


def _strip_comments(text: str) -> str:
    """Remove ``#`` line comments outside quoted arguments."""
    kept = []
    for line in text.splitlines():
        in_quotes = False
        for index, char in enumerate(line):
            if char == '"' and (index == 0 or line[index - 1] != "\\"):
                in_quotes = not in_quotes
            elif char == "#" and not in_quotes:
                line = line[:index]
                break
        kept.append(line)
    return "\n".join(kept)


def cmake_commands(path: Path) -> list[tuple[str, list[str]]]:
    """Parse a CMake file into (lower-case command name, arguments) pairs, quotes removed."""
    text = _strip_comments(path.read_text(encoding="utf-8"))
    commands = []
    for match in _COMMAND.finditer(text):
        arguments = [argument[1:-1] if argument.startswith('"') else argument
                     for argument in _ARGUMENT.findall(match.group(2))]
        commands.append((match.group(1).lower(), arguments))
    return commands


def cmake_variables(path: Path) -> dict[str, list[str]]:
    """The values of every ``set(NAME value...)`` in a file (the last one wins)."""
    return {arguments[0]: arguments[1:] for name, arguments in cmake_commands(path) if name == "set" and arguments}


def module_list(variable: str) -> list[str]:
    """A list from OARContour/CMakeLists.txt with ``${MODULE_NAME}`` expanded."""
    variables = cmake_variables(MODULE_CMAKE)
    assert variable in variables, f"{MODULE_CMAKE.relative_to(REPO_ROOT)} does not set {variable}"
    module_name = variables.get("MODULE_NAME", [""])[0]
    return [entry.replace("${MODULE_NAME}", module_name) for entry in variables[variable]]


def _relative(paths) -> set[str]:
    return {path.relative_to(MODULE_DIR).as_posix() for path in paths}


def scripts_on_disk() -> set[str]:
    """Python files that must ship: the module file and the library, not tests or resources."""
    return _relative(
        path for path in MODULE_DIR.rglob("*.py")
        if "__pycache__" not in path.parts and path.relative_to(MODULE_DIR).parts[0] not in ("Testing", "Resources")
    )


def resources_on_disk() -> set[str]:
    return _relative(
        path for path in (MODULE_DIR / "Resources").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def _compare(variable: str, listed: list[str], on_disk: set[str]) -> list[str]:
    cmake = MODULE_CMAKE.relative_to(REPO_ROOT)
    errors = [
        f"{name} is not in {variable} of {cmake}: it works in development but is missing from the "
        f"packaged extension. Add it (one per line, sorted)."
        for name in sorted(on_disk - set(listed))
    ]
    errors += [
        f"{name} is in {variable} of {cmake} but not on disk under OARContour/: remove it or restore the file."
        for name in sorted(set(listed) - on_disk)
    ]
    errors += [f"{name} is listed more than once in {variable} of {cmake}."
               for name in sorted({name for name in listed if listed.count(name) > 1})]
    return errors


# --- OARContour/CMakeLists.txt -------------------------------------------------------------------


def test_module_python_scripts_match_the_files_on_disk():
    listed = module_list("MODULE_PYTHON_SCRIPTS")
    errors = _compare("MODULE_PYTHON_SCRIPTS", listed, scripts_on_disk())
    assert not errors, "\n".join(errors)


def test_module_python_resources_match_the_files_on_disk():
    listed = module_list("MODULE_PYTHON_RESOURCES")
    errors = _compare("MODULE_PYTHON_RESOURCES", listed, resources_on_disk())
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("variable", ["MODULE_PYTHON_SCRIPTS", "MODULE_PYTHON_RESOURCES"])
def test_every_listed_file_exists(variable):
    missing = [name for name in module_list(variable) if not (MODULE_DIR / name).is_file()]
    assert not missing, f"{variable} in {MODULE_CMAKE.relative_to(REPO_ROOT)} lists missing files: {missing}"


@pytest.mark.parametrize("variable", ["MODULE_PYTHON_SCRIPTS", "MODULE_PYTHON_RESOURCES"])
def test_module_lists_are_sorted(variable):
    listed = module_list(variable)
    # The module file comes first, as in Slicer's template; the rest is sorted for clean diffs.
    body = listed[1:] if variable == "MODULE_PYTHON_SCRIPTS" else listed
    assert body == sorted(body), f"{variable} is not sorted; expected order:\n" + "\n".join(sorted(body))


def test_module_name_and_module_file():
    assert cmake_variables(MODULE_CMAKE).get("MODULE_NAME") == ["OARContour"]
    scripts = module_list("MODULE_PYTHON_SCRIPTS")
    assert scripts and scripts[0] == "OARContour.py", "MODULE_PYTHON_SCRIPTS must start with ${MODULE_NAME}.py"


def test_scripted_module_macro_builds_all_lists_with_generic_tests():
    calls = [arguments for name, arguments in cmake_commands(MODULE_CMAKE) if name == "slicermacrobuildscriptedmodule"]
    assert len(calls) == 1, "OARContour/CMakeLists.txt must call slicerMacroBuildScriptedModule exactly once"
    arguments = calls[0]
    for keyword, value in [("NAME", "${MODULE_NAME}"), ("SCRIPTS", "${MODULE_PYTHON_SCRIPTS}"),
                           ("RESOURCES", "${MODULE_PYTHON_RESOURCES}")]:
        assert keyword in arguments and arguments[arguments.index(keyword) + 1] == value, (
            f"slicerMacroBuildScriptedModule needs {keyword} {value}")
    assert "WITH_GENERIC_TESTS" in arguments


def test_testing_folder_is_added_only_when_build_testing():
    commands = cmake_commands(MODULE_CMAKE)
    assert ("if", ["BUILD_TESTING"]) in commands and ("add_subdirectory", ["Testing"]) in commands
    start = commands.index(("if", ["BUILD_TESTING"]))
    subdirectory = commands.index(("add_subdirectory", ["Testing"]))
    end = next((i for i, (name, _) in enumerate(commands) if name == "endif" and i > start), -1)
    assert start < subdirectory < end, "add_subdirectory(Testing) must sit inside if(BUILD_TESTING)"


def test_self_test_is_registered_with_ctest():
    calls = [arguments for name, arguments in cmake_commands(TESTING_CMAKE) if name == "slicer_add_python_unittest"]
    assert calls, f"{TESTING_CMAKE.relative_to(REPO_ROOT)} must call slicer_add_python_unittest"
    arguments = calls[0]
    assert "SCRIPT" in arguments, "slicer_add_python_unittest needs SCRIPT <path to OARContour.py>"
    script = arguments[arguments.index("SCRIPT") + 1].replace("${CMAKE_CURRENT_SOURCE_DIR}", str(TESTING_CMAKE.parent))
    script_path = Path(script) if Path(script).is_absolute() else TESTING_CMAKE.parent / script
    assert script_path.resolve() == (MODULE_DIR / "OARContour.py").resolve(), (
        f"slicer_add_python_unittest SCRIPT resolves to {script_path.resolve()}, not OARContour/OARContour.py")


# --- pyproject.toml: the same files must reach the wheel -----------------------------------------


@pytest.fixture(scope="module")
def setuptools_config() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_wheel_packages_cover_every_library_package(setuptools_config):
    # pip installs only the packages listed; a missing subpackage imports in development only.
    on_disk = {
        ".".join(("OARContourLib", *path.parent.relative_to(MODULE_DIR / "OARContourLib").parts))
        for path in (MODULE_DIR / "OARContourLib").rglob("__init__.py") if "__pycache__" not in path.parts
    }
    missing = sorted(on_disk - set(setuptools_config["packages"]))
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}: the wheel would not contain them"


def test_every_resources_folder_is_a_declared_package(setuptools_config):
    # setuptools warns ("Package ... is absent from the packages configuration") for each folder of
    # package data that is not listed; pip wheel and make demo then print a screen of warnings.
    folders = {".".join(("OARContourLib.Resources", *path.relative_to(MODULE_DIR / "Resources").parts))
               for path in (MODULE_DIR / "Resources").rglob("*") if path.is_dir() and "__pycache__" not in path.parts}
    missing = sorted(folders - set(setuptools_config["packages"]))
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks the resource folders {missing}"


def test_wheel_resources_match_module_python_resources(setuptools_config):
    patterns = setuptools_config.get("package-data", {}).get("OARContourLib.Resources", [])
    resources = MODULE_DIR / "Resources"
    in_wheel = {f"Resources/{path.relative_to(resources).as_posix()}"
                for pattern in patterns for path in resources.glob(pattern) if path.is_file()}
    listed = set(module_list("MODULE_PYTHON_RESOURCES"))
    assert in_wheel == listed, (
        f"pyproject.toml package-data for OARContourLib.Resources misses {sorted(listed - in_wheel)} and has "
        f"{sorted(in_wheel - listed)} beyond MODULE_PYTHON_RESOURCES")


# --- top-level CMakeLists.txt --------------------------------------------------------------------


def test_project_name_matches_index_file_name():
    projects = [arguments for name, arguments in cmake_commands(TOP_CMAKE) if name == "project"]
    assert projects and projects[0][0] == "OARContour", "CMakeLists.txt must declare project(OARContour)"
    # The Extensions Index finds the extension by this file name.
    assert INDEX_JSON.stem == projects[0][0]


@pytest.mark.parametrize("suffix", EXTENSION_VARIABLES)
def test_extension_variable_is_set(suffix):
    value = cmake_variables(TOP_CMAKE).get(f"EXTENSION_{suffix}")
    assert value and all(part.strip() for part in value), f"CMakeLists.txt must set EXTENSION_{suffix} to a non-empty value"


def test_extension_category_is_radiotherapy():
    assert cmake_variables(TOP_CMAKE)["EXTENSION_CATEGORY"] == ["Radiotherapy"]


@pytest.mark.parametrize("suffix", ["HOMEPAGE", "ICONURL", "SCREENSHOTURLS"])
def test_extension_urls_are_https(suffix):
    for url in " ".join(cmake_variables(TOP_CMAKE)[f"EXTENSION_{suffix}"]).split():
        assert urlparse(url).scheme == "https" and urlparse(url).netloc, f"EXTENSION_{suffix}: {url!r} is not an https URL"


def test_icon_url_is_a_raw_url_of_the_icon_in_this_repository():
    homepage = cmake_variables(TOP_CMAKE)["EXTENSION_HOMEPAGE"][0]
    icon_url = urlparse(cmake_variables(TOP_CMAKE)["EXTENSION_ICONURL"][0])
    owner_repo = urlparse(homepage).path.strip("/")
    assert icon_url.netloc == "raw.githubusercontent.com", "the Extensions Manager needs a raw image URL"
    prefix = f"/{owner_repo}/"
    assert icon_url.path.startswith(prefix), f"EXTENSION_ICONURL must point into {owner_repo}, like EXTENSION_HOMEPAGE"
    # Path after /<owner>/<repo>/<branch>/ must name a file of this checkout.
    path_in_repo = icon_url.path[len(prefix):].split("/", 1)[1]
    assert (REPO_ROOT / path_in_repo).is_file(), f"EXTENSION_ICONURL names {path_in_repo}, which is not in the repository"


def test_extension_build_steps_in_order():
    names = [(name, arguments[:1]) for name, arguments in cmake_commands(TOP_CMAKE)]
    expected = [
        ("find_package", ["Slicer"]),
        ("include", ["${Slicer_USE_FILE}"]),
        ("add_subdirectory", ["OARContour"]),
        ("include", ["${Slicer_EXTENSION_GENERATE_CONFIG}"]),
        ("include", ["${Slicer_EXTENSION_CPACK}"]),
    ]
    positions = []
    for step in expected:
        assert step in names, f"CMakeLists.txt lacks {step[0]}({step[1][0]} ...)"
        positions.append(names.index(step))
    assert positions == sorted(positions), f"CMakeLists.txt must run these steps in this order: {expected}"
    assert "REQUIRED" in dict(cmake_commands(TOP_CMAKE))["find_package"]


# --- OARContour.json -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index_entry() -> dict:
    assert INDEX_JSON.is_file(), "OARContour.json (the Extensions Index entry) is missing"
    return json.loads(INDEX_JSON.read_text(encoding="utf-8"))


def test_index_entry_follows_catalog_schema(index_entry):
    assert index_entry.get("$schema") == CATALOG_SCHEMA
    assert CATALOG_REQUIRED <= index_entry.keys(), f"missing required keys: {CATALOG_REQUIRED - index_entry.keys()}"
    unknown = index_entry.keys() - CATALOG_PROPERTIES
    assert not unknown, f"OARContour.json has keys the catalog schema forbids: {sorted(unknown)}"
    assert isinstance(index_entry.get("tier", 1), int) and 1 <= index_entry.get("tier", 1) <= 5
    assert isinstance(index_entry.get("enabled", True), bool)


def test_index_category_matches_cmake(index_entry):
    assert [index_entry["category"]] == cmake_variables(TOP_CMAKE)["EXTENSION_CATEGORY"]


def test_index_build_dependencies_match_extension_depends(index_entry):
    depends = " ".join(cmake_variables(TOP_CMAKE)["EXTENSION_DEPENDS"]).replace(";", " ").split()
    expected = [] if depends == ["NA"] else depends
    assert sorted(index_entry.get("build_dependencies", [])) == sorted(expected), (
        f"OARContour.json build_dependencies {index_entry.get('build_dependencies')} disagree with "
        f"EXTENSION_DEPENDS {depends} in CMakeLists.txt")


def test_index_repository_is_the_homepage(index_entry):
    homepage = cmake_variables(TOP_CMAKE)["EXTENSION_HOMEPAGE"][0]
    assert index_entry["scm_url"] == f"{homepage}.git", "scm_url and EXTENSION_HOMEPAGE name different repositories"
