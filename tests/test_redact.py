"""analysis.redact: secret values are replaced, everything around them kept; normal code is left alone.

The secrets below are assembled at run time so no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import pytest
from sophia_artemis.analysis.redact import REDACTED, detect_secrets_available, find_secrets, redact

AWS_ID = "AKIA" + "Z7QF3XHKLMN4PQRS"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ8uR2t5vB9w"
GITHUB = "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEpAIBAAKCAQEA7bq9" + "x" * 60 + "\nQ2hhbmdlTWVQbGVhc2U=\n"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (f'AWS_ACCESS_KEY_ID = "{AWS_ID}"', AWS_ID, 'AWS_ACCESS_KEY_ID = "'),
        (f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET, "aws_secret_access_key = "),
        (f"client = Github('{GITHUB}')", GITHUB, "client = Github('"),
        (f'slack = WebClient(token="{SLACK}")', SLACK, "slack = WebClient(token="),
        (f"headers = {{'Authorization': 'Bearer {JWT}'}}", JWT, "'Authorization': 'Bearer "),
        (f"KEY = '''{PEM}'''", PEM_BODY, "-----BEGIN RSA PRIVATE KEY-----"),
        ('password="hunter2"', "hunter2", 'password="'),
        ('def login(user, password: str = "hunter2"): ...', "hunter2", "password: str = "),
        ('settings = {"api_key": "abc123def456"}', "abc123def456", '{"api_key": "'),
        ("export API_TOKEN=tok3n0123456789", "tok3n0123456789", "export API_TOKEN="),
        ('DATABASE_URL = "postgres://admin:s3cr3t-pw@db:5432/app"', "s3cr3t-pw", "postgres://admin:"),
        ('db:\n  password: "correct horse"\n', "correct horse", "password: "),
        ('if password == "hunter2":', "hunter2", "if password == "),
    ],
)
def test_secret_values_are_redacted_and_the_rest_kept(text, secret, kept):
    out = redact(text)
    assert secret.strip() not in out
    assert REDACTED in out
    assert kept in out


def test_private_key_block_keeps_its_armour_lines():
    out = redact(f"key = '''{PEM}'''\nnext_line = 1\n")
    assert "-----BEGIN RSA PRIVATE KEY-----" in out and "-----END RSA PRIVATE KEY-----" in out
    assert "MIIE" not in out and "next_line = 1" in out


def test_several_secrets_in_one_text():
    text = f'a = "{AWS_ID}"\nb = "{GITHUB}"\npassword = "hunter2"\n'
    out = redact(text)
    assert out == f'a = "{REDACTED}"\nb = "{REDACTED}"\npassword = "{REDACTED}"\n'
    spans = find_secrets(text)
    assert [text[s.start:s.end] for s in spans] == [AWS_ID, GITHUB, "hunter2"]


NORMAL_CODE = [
    'token_type = "Bearer"',
    "password = get_password()",
    "password = request.form['password']",
    'password_field = "password"',
    'password=""',
    "token = self.next_token()",
    'token = "is not"',
    'if token == "(":',
    "token: str",
    "def check(password: str) -> bool:",
    "SECRET_KEY = os.environ['SECRET_KEY']",
    'url = "https://example.com/path?page=2"',
    'sort_key = "name"',
    'api_key = "<your api key>"',
    'api_key = "${API_KEY}"',
    'password = "***"',
    "hashed = hashlib.sha256(data).hexdigest()",
    "# the password is read from the keyring",
    ":param token: the token to use",
    'primary_key = "id"',
    "for key, value in mapping.items():",
    'ID = "550e8400-e29b-41d4-a716-446655440000"',
]


@pytest.mark.parametrize("line", NORMAL_CODE)
def test_normal_code_is_left_intact(line):
    assert redact(line) == line


def test_real_source_file_is_unchanged():
    import inspect

    from sophia_artemis.analysis import chunks

    source = inspect.getsource(chunks)
    assert redact(source) == source


def test_detect_secrets_plugins_run_in_process():
    """detect-secrets (installed with the dev extra) adds its regex plugins; the built-in patterns alone
    already cover the common formats."""
    assert detect_secrets_available()
    stripe_like = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    assert stripe_like not in redact(f'stripe.api = "{stripe_like}"', use_plugins=False)
    twilio = "SK" + "0123456789abcdef0123456789abcdef"
    assert twilio not in redact(f"TWILIO = {twilio}")  # found by detect-secrets' Twilio plugin only
    assert twilio in redact(f"TWILIO = {twilio}", use_plugins=False)
