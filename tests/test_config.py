"""Settings: layering (defaults < pyproject < initializationOptions < workspace/configuration), camelCase keys,
bad values (a message naming the key and the default used), unknown keys, and a broken pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from sophia_artemis.analysis.config import (
    DEFAULT_MAX_FILE_SIZE,
    Settings,
    build_settings,
    project_settings,
    read_pyproject,
)
from sophia_artemis.analysis.rules import DEFAULT_DEBT_MARKERS, DEFAULT_THRESHOLDS


def pyproject(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_defaults():
    settings, problems = build_settings([])
    assert problems == []
    assert settings == Settings()
    assert dict(settings.thresholds) == DEFAULT_THRESHOLDS
    assert settings.debt_markers == DEFAULT_DEBT_MARKERS and settings.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert all(settings.enabled(r) for r in ("SA001", "SA101", "SA201", "SA202"))


def test_layers_later_wins_key_by_key(tmp_path):
    root = pyproject(
        tmp_path,
        """
[tool.sophia-artemis]
exclude = ["legacy/"]
max_file_size = 1000
debt_markers = ["TODO"]

[tool.sophia-artemis.thresholds]
cyclomatic = 5
cognitive = 6
nesting = 2
""",
    )
    init_options = {"thresholds": {"cognitive": 7, "nesting": 3}, "maxFileSize": 2000}
    workspace = {"thresholds": {"nesting": 9}}
    settings, problems = project_settings(
        root, ("initializationOptions", init_options), ("workspace/configuration", workspace)
    )
    assert problems == []
    assert settings.threshold("cyclomatic") == 5  # pyproject only
    assert settings.threshold("cognitive") == 7  # initializationOptions over pyproject
    assert settings.threshold("nesting") == 9  # workspace/configuration over everything
    assert settings.threshold("function_length") == DEFAULT_THRESHOLDS["function_length"]  # untouched default
    assert settings.max_file_size == 2000
    assert settings.exclude == ("legacy/",) and settings.debt_markers == ("TODO",)


def test_camel_case_and_snake_case_are_the_same_keys():
    camel, problems = build_settings(
        [
            (
                "editor",
                {
                    "maxFileSize": 10,
                    "debtMarkers": ["NOTE"],
                    "thresholds": {"functionLength": 20, "cyclomatic": 3},
                },
            )
        ]
    )
    snake, more = build_settings(
        [
            (
                "toml",
                {
                    "max_file_size": 10,
                    "debt_markers": ["NOTE"],
                    "thresholds": {"function_length": 20, "cyclomatic": 3},
                },
            )
        ]
    )
    assert problems == more == []
    assert camel == snake
    assert (
        camel.threshold("function_length") == 20
        and camel.max_file_size == 10
        and camel.debt_markers == ("NOTE",)
    )


def test_select_ignore_and_severity():
    settings, problems = build_settings(
        [
            (
                "toml",
                {
                    "select": ["SA1", "sa201"],
                    "ignore": "SA105",
                    "severity": {"SA101": "error", "SA201": "hint"},
                },
            )
        ]
    )
    assert problems == []
    assert settings.enabled("SA101") and settings.enabled("SA201")
    assert not settings.enabled("SA105") and not settings.enabled("SA001") and not settings.enabled("SA202")
    assert settings.severity_of("SA101") == "error" and settings.severity_of("SA201") == "hint"
    assert settings.severity_of("SA102") == "warning"


def test_with_rules_puts_the_command_line_on_top():
    base, _ = build_settings([("toml", {"select": ["SA1"], "ignore": ["SA105"]})])
    cli = base.with_rules(select=["SA2", "SA001"], ignore=["SA202"])
    assert cli.select == ("SA2", "SA001")  # --select replaces
    assert cli.ignore == ("SA105", "SA202")  # --ignore adds
    assert base.with_rules() == base


def test_bad_values_name_the_key_and_the_default_and_keep_going():
    settings, problems = build_settings(
        [
            (
                "pyproject.toml [tool.sophia-artemis]",
                {
                    "max_file_size": "huge",
                    "select": ["SA1", "E501"],
                    "exclude": 3,
                    "thresholds": {"cyclomatic": -1, "cognitive": "high", "nesting": 2.0},
                    "severity": {"SA101": "fatal"},
                },
            )
        ]
    )
    text = "\n".join(problems)
    assert "'max_file_size'" in text and str(DEFAULT_MAX_FILE_SIZE) in text
    assert "'thresholds.cyclomatic'" in text and "using 10 instead" in text
    assert "'thresholds.cognitive'" in text and "using 15 instead" in text
    assert "'severity.SA101'" in text and "'warning'" in text
    assert "'select'" in text and "'exclude'" in text
    assert all(p.startswith("pyproject.toml [tool.sophia-artemis]: ") for p in problems)
    assert len(problems) == 6
    # every bad value falls back; the good ones are kept
    assert settings.max_file_size == DEFAULT_MAX_FILE_SIZE
    assert settings.select == ("SA",) and settings.exclude == ()
    assert settings.threshold("cyclomatic") == 10 and settings.threshold("cognitive") == 15
    assert settings.threshold("nesting") == 2
    assert settings.severity_of("SA101") == "warning"


def test_a_bad_later_value_keeps_the_earlier_good_one_for_lists():
    settings, problems = build_settings([("toml", {"exclude": ["a/"]}), ("editor", {"exclude": 5})])
    assert settings.exclude == ("a/",)
    assert len(problems) == 1 and "editor: setting 'exclude'" in problems[0]


def test_unknown_keys_are_reported_and_ignored():
    settings, problems = build_settings(
        [
            (
                "editor",
                {
                    "frobnicate": True,
                    "thresholds": {"speed": 3},
                    "severity": {"SA999": "error"},
                    "architecture": {},
                },
            )
        ]
    )
    assert settings == Settings()
    assert any("unknown setting 'frobnicate'" in p for p in problems)
    assert any("unknown threshold 'thresholds.speed'" in p and "cyclomatic" in p for p in problems)
    assert any("unknown rule 'SA999'" in p for p in problems)
    assert len(problems) == 3  # `architecture` belongs to a later feature: not an error


def test_a_layer_that_is_not_a_table():
    settings, problems = build_settings([("editor", ["not", "a", "table"])])
    assert settings == Settings() and len(problems) == 1 and "must be a table" in problems[0]


def test_broken_or_missing_pyproject(tmp_path):
    assert read_pyproject(tmp_path) == (None, [])
    root = pyproject(tmp_path, "[tool.sophia-artemis\nexclude = [")
    settings, problems = project_settings(root)
    assert settings == Settings()
    assert len(problems) == 1 and "cannot parse" in problems[0] and "using default settings" in problems[0]
    pyproject(tmp_path, "[tool]\nsophia-artemis = 3\n")
    settings, problems = project_settings(root)
    assert settings == Settings() and "must be a table" in problems[0]
    pyproject(tmp_path, "[project]\nname = 'x'\n")  # no section at all: defaults, no problem
    assert project_settings(root) == (Settings(), [])


def test_pyproject_that_is_not_utf8(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.sophia-artemis]\nexclude = ['\xff']\n")
    settings, problems = project_settings(tmp_path)
    assert settings == Settings() and len(problems) == 1 and "using default settings" in problems[0]


def test_every_setting_is_contributed_by_the_vscode_extension():
    """issue 6: every server setting appears in the extension's package.json with a description and default."""
    import json
    import re
    from pathlib import Path

    from sophia_artemis.analysis import config

    source = Path(config.__file__).read_text(encoding="utf-8")
    source = source[source.index("    def apply(") : source.index("    def _thresholds(")]  # the top-level keys
    keys = set()
    for group in re.findall(r'\n            (?:el)?if key (?:==|in) \(?([^:)]*)\)?:', source):  # the top level
        keys.update(re.findall(r'"([a-z_]+)"', group))
    assert {"select", "unused", "diagnostic_scope", "semantic", "architecture"} <= keys
    package = json.loads((Path(__file__).parent.parent / "vscode-extension" / "package.json").read_text())
    contributed = package["contributes"]["configuration"]["properties"]
    for key in sorted(keys):
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
        entry = contributed.get(f"sophiaArtemis.{camel}")
        assert entry is not None, f"sophiaArtemis.{camel} is not contributed"
        assert (entry.get("description") or entry.get("markdownDescription")) and "default" in entry, camel
