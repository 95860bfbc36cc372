"""Remove secrets from text before anything is embedded or stored. Pure: strings in, strings out.

`redact(text)` replaces each secret *value* with `«redacted»` and keeps everything around it, so the code
still reads the same (`password = "«redacted»"`). Three detectors, their spans merged:

* built-in patterns for well-known token formats (AWS access key ids, GitHub, GitLab, Slack, Stripe, OpenAI,
  npm and PyPI tokens, Google API keys, JWTs, Slack webhooks, credentials in URLs, `Bearer` tokens) and whole
  PEM private-key blocks (the base64 body, across lines);
* the regex-based plugins of `detect-secrets` when it is installed, run in-process on the string through
  their `analyze_string` (no files, no git, no baseline, no network: `verify` is never called). The entropy
  plugins are not run: on source code they flag hashes, test vectors and long identifiers far too often;
  the keyword plugin is replaced by the assignment heuristic below, which understands Python annotations and
  placeholders;
* an assignment heuristic: a name that *ends* in a secret-ish word (`password`, `passwd`, `secret`,
  `api_key`, `token`, `client_secret`, `private_key`, ...) assigned (`=`, `:`, `:=`, `=>`, keyword argument,
  dict entry, YAML/.env line) a string literal, or a bare token-looking value in config-style lines; also a
  password/secret/key compared with a literal (`if password == "hunter2"`). Names that merely contain the
  word (`token_type`, `password_field`) and values that are expressions or placeholders (`""`, `"***"`,
  `"<token>"`, `"${TOKEN}"`, `"%s"`, `"changeme"`, `"true"`) are left alone; for the weak words (`token`,
  `credentials`, `dsn`) the value must also look like a token (no blanks, 8+ characters, a digit or 16+).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

REDACTED = "«redacted»"
MIN_PLUGIN_SECRET = 8  # values from detect-secrets shorter than this are ignored (would over-redact)


@dataclass(frozen=True, slots=True)
class Secret:
    start: int
    end: int
    kind: str


# --------------------------------------------------------------------------------------------- built-in

# (kind, literal hints: the pattern runs only when one of them occurs in the text, which keeps this fast, pattern)
_TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(rx))
    for kind, hints, rx in (
        (
            "AWS access key id",
            ("A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"),
            r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])",
        ),
        ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36,255}\b"),
        ("GitHub token", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
        ("GitLab token", ("glpat-",), r"\bglpat-[A-Za-z0-9_\-]{20,}"),
        ("Slack token", ("xox",), r"\bxox[abposr]-(?:[0-9A-Za-z]+-)+[0-9A-Za-z]+\b"),
        ("Slack webhook", ("hooks.slack.com",), r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
        ("Stripe key", ("sk_live_", "sk_test_", "rk_live_", "rk_test_"), r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b"),
        ("OpenAI key", ("T3BlbkFJ",), r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}"),
        ("OpenAI key", ("sk-proj-", "sk-svcacct-", "sk-admin-"), r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}"),
        ("npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("PyPI token", ("pypi-AgE",), r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
        ("Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
        ("JSON Web Token", ("eyJ",), r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    )
)

# group 1 = the password in scheme://user:password@host
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]+:([^\s@/'\"]{1,200})@")
_BEARER = re.compile(r"\b(?:Bearer|Token)\s+([A-Za-z0-9\-._~+/]{20,}=*)")

_PEM = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?P<body>.*?)"
    r"(?:-----END \1-----|(?=[\"']{1,3}\s*[,)\]}]|$)|\Z)",
    re.DOTALL,
)

# --------------------------------------------------------------------------------------------- assignments

_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|secret[_\-]?key|client[_\-]?secret|api[_\-]?key|apikey|"
    r"api[_\-]?secret|access[_\-]?key(?:[_\-]?id)?|secret[_\-]?access[_\-]?key|private[_\-]?key|"
    r"signing[_\-]?key|encryption[_\-]?key|auth[_\-]?key|master[_\-]?key|"
    r"token|auth[_\-]?token|access[_\-]?token|refresh[_\-]?token|bearer[_\-]?token|session[_\-]?token|"
    r"api[_\-]?token|bot[_\-]?token|credentials?|conn(?:ection)?[_\-]?string|dsn"
)
# a whole name ending in a secret word: `db_password`, `API_KEY`, `self.token`, `aws_secret_access_key`
_KEY = re.compile(rf"(?:[A-Za-z0-9]+[_\-.])*(?i:{_SECRET_WORDS})")
# where a secret word ends a name that is being assigned: found fast, then checked closely
_CANDIDATE = re.compile(
    r"(?i)(?:passw(?:or)?d|passphrase|pwd|secret|key|token|credentials?|dsn|string)"
    r"(?=[\"'\]]?[ \t]*(?::=|=>|=|:))"
)
_TAIL_QUOTED = re.compile(
    r"(?:[ \t]*:[ \t]*[A-Za-z_][\w\[\]., |]*?(?=[ \t]*=))?"  # a Python annotation `: str` before `=`
    r"[ \t]*(?P<op>:=|=>|==|!=|=(?!=)|:)[ \t]*"  # the assignment (or a comparison with a literal)
    r"[rRbBuU]{0,2}(?P<quote>\"\"\"|'''|\"|')(?P<value>.*?)(?<!\\)(?P=quote)",
    re.DOTALL,
)
_TAIL_BARE = re.compile(r"[ \t]*(?:=|:)[ \t]*(?P<value>[^\s\"'#,;]{8,})[ \t]*(?:#.*)?$", re.MULTILINE)
_IDENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_PLACEHOLDER = re.compile(
    r"""^(?:
        \s*
      | [*x•.\-_#]+
      | <[^<>]*> | \$\{[^}]*\} | \{\{[^}]*\}\} | \{[^{}]*\} | \$[A-Z_][A-Z0-9_]*
      | %\(?[a-z_]*\)?s | %s
      | (?i:changeme|change[_\-]?me|your[_\-][\w\-]+|placeholder|example|redacted|secret|password|none|null|
            true|false|todo|xxx+|dummy|fake)
    )$""",
    re.VERBOSE,
)


# "token", "credentials", "dsn" also name lexer tokens and plain data: their values must look like a secret
_WEAK = re.compile(r"(?i)(?:token|credentials?|dsn|string)$")
_STRONG = re.compile(r"(?i)(?:pass|pwd|secret|key)")


def _token_like(value: str) -> bool:
    return len(value) >= 8 and not re.search(r"\s", value) and (bool(re.search(r"\d", value)) or len(value) >= 16)


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value)) or REDACTED in value


def _looks_like_expression(value: str) -> bool:
    """A bare value that is code, not a secret: `request.headers`, `get_token()`, `os.environ[...]`."""
    if "(" in value or "[" in value or "." in value.strip("."):
        return bool(re.match(r"[A-Za-z_][\w.]*[(\[]?", value)) and not re.search(r"[0-9]{4,}", value)
    return False


def _starts_line(text: str, start: int) -> bool:
    """Only blanks, or `export `/`set `/`- `, between the line start and `start` (.env, shell, YAML lines)."""
    line_start = text.rfind("\n", 0, start) + 1
    return text[line_start:start].strip() in ("", "export", "set", "-")


def _starts_entry(text: str, start: int) -> bool:
    """A mapping entry: at a line start (YAML) or after `{`, `,` or `(` (JS objects, dicts, calls)."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in "\n{,(" or _starts_line(text, start)


def _assignment_spans(text: str) -> Iterable[Secret]:
    for cand in _CANDIDATE.finditer(text):
        end = cand.end()
        start = end
        while start > 0 and text[start - 1] in _IDENT_CHARS:
            start -= 1
        if not _KEY.fullmatch(text, start, end):
            continue
        before = text[start - 1] if start > 0 else "\n"
        pos = end
        quoted_key = before in "\"'"
        if quoted_key:
            if pos >= len(text) or text[pos] != before:
                continue
            pos += 1
        elif pos < len(text) and text[pos] == "]":
            pos += 1
        m = _TAIL_QUOTED.match(text, pos)
        if m:
            value = m.group("value")
            if m.group("op") in ("==", "!=") and not _STRONG.search(text, start, end):
                continue  # `token == "("` in a parser compares syntax, not a credential
            if m.group("op") == ":" and not quoted_key and not _starts_entry(text, start):
                continue  # `token: "..."` inside prose or a repr, not a mapping entry
            if "\n" in value and m.group("quote") in ('"', "'"):
                continue  # not a one-line literal: the match ran across lines
            if _is_placeholder(value) or (value.startswith(("{", "%", "$")) and len(value) < 40):
                continue
            if "://" in value and not _URL_CREDENTIALS.search(value):
                continue  # a URL (`token_url = "https://..."`) is not a secret; URL credentials are found apart
            if _WEAK.search(text, start, end) and not _STRONG.search(text, start, end) and not _token_like(value):
                continue  # a parser's `token = "not in"` is not a credential
            yield Secret(m.start("value"), m.end("value"), "assigned secret")
        elif _starts_line(text, start):
            m = _TAIL_BARE.match(text, pos)
            if m:
                value = m.group("value")
                if _is_placeholder(value) or _looks_like_expression(value) or not re.search(r"\d", value):
                    continue
                yield Secret(m.start("value"), m.end("value"), "assigned secret")


# --------------------------------------------------------------------------------------------- detect-secrets

# Cheap pre-checks for the plugins whose patterns have no literal prefix (slow to run on every text): a
# match of the plugin is impossible unless its gate matches.
_PLUGIN_GATES = {
    "ArtifactoryDetector": re.compile(r"AKC|AP[\dA-F]"),
    "CloudantDetector": re.compile(r"[0-9a-f]{64}|[a-z]{24}"),
    "IbmCloudIamDetector": re.compile(r"[A-Za-z0-9_\-]{44}"),
    "IbmCosHmacDetector": re.compile(r"[a-f0-9]{48}"),
    "SoftlayerDetector": re.compile(r"[a-z0-9]{64}"),
    "MailchimpDetector": re.compile(r"-us[0-9]"),
    "TelegramBotTokenDetector": re.compile(r"\d{8}:"),
    "DiscordBotTokenDetector": re.compile(r"[MNO][a-zA-Z\d_-]{23,25}\."),
}

_SKIPPED_PLUGINS = frozenset(
    {
        "PrivateKeyDetector",  # flags only the BEGIN line; blocks are handled whole above
        "IPPublicDetector",  # an address is not a secret
        "HighEntropyStringsPlugin",
        "Base64HighEntropyString",
        "HexHighEntropyString",
        "KeywordDetector",  # replaced by the assignment heuristic
    }
)


@lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    """Instances of detect-secrets' regex-based plugins, or () when it is not installed."""
    try:
        import importlib
        import pkgutil

        import detect_secrets.plugins as package
        from detect_secrets.plugins.base import RegexBasedDetector
    except Exception:  # not installed (the base install), or broken: the built-in patterns still run
        return ()
    found: list[Any] = []
    for info in pkgutil.iter_modules(package.__path__):
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception:
            continue
        for name, obj in sorted(vars(module).items()):
            if (
                isinstance(obj, type)
                and issubclass(obj, RegexBasedDetector)
                and obj is not RegexBasedDetector
                and obj.__module__ == module.__name__
                and name not in _SKIPPED_PLUGINS
            ):
                try:
                    found.append(obj())
                except Exception:
                    continue
    return tuple(found)


def detect_secrets_available() -> bool:
    return bool(_plugins())


def _plugin_spans(text: str) -> Iterable[Secret]:
    for plugin in _plugins():
        gate = _PLUGIN_GATES.get(type(plugin).__name__)
        if gate is not None and not gate.search(text):
            continue
        try:
            values = set(plugin.analyze_string(text))
        except Exception:  # a plugin bug must not stop redaction by the others
            continue
        for value in values:
            if not isinstance(value, str) or len(value) < MIN_PLUGIN_SECRET or _is_placeholder(value):
                continue
            start = text.find(value)
            while start >= 0:
                yield Secret(start, start + len(value), str(getattr(plugin, "secret_type", "secret")))
                start = text.find(value, start + len(value))


# --------------------------------------------------------------------------------------------- api


def find_secrets(text: str, *, use_plugins: bool = True) -> list[Secret]:
    """Non-overlapping secret spans in `text`, in order (overlapping detections merged)."""
    spans: list[Secret] = []
    for m in _PEM.finditer(text) if "PRIVATE KEY" in text else ():
        body = m.group("body")
        if body.strip():
            spans.append(Secret(m.start("body"), m.end("body"), "private key"))
    for kind, hints, rx in _TOKEN_PATTERNS:
        if any(h in text for h in hints):
            spans.extend(Secret(m.start(), m.end(), kind) for m in rx.finditer(text))
    for m in _URL_CREDENTIALS.finditer(text) if "@" in text else ():
        if not _is_placeholder(m.group(1)):
            spans.append(Secret(m.start(1), m.end(1), "URL credentials"))
    if "Bearer" in text or "Token" in text:
        spans.extend(Secret(m.start(1), m.end(1), "bearer token") for m in _BEARER.finditer(text))
    spans.extend(_assignment_spans(text))
    if use_plugins:
        spans.extend(_plugin_spans(text))
    return _merge(spans)


def _merge(spans: list[Secret]) -> list[Secret]:
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[Secret] = []
    for s in spans:
        if s.end <= s.start:
            continue
        if out and s.start < out[-1].end:
            last = out[-1]
            if s.end > last.end:
                out[-1] = Secret(last.start, s.end, last.kind)
            continue
        out.append(s)
    return out


def redact(text: str, *, use_plugins: bool = True) -> str:
    """`text` with every secret value replaced by `«redacted»`."""
    if not text:
        return text
    spans = find_secrets(text, use_plugins=use_plugins)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos:s.start])
        parts.append(REDACTED)
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)


def has_secrets(text: str) -> bool:
    return bool(find_secrets(text))
