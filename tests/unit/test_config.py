"""Production configuration defaults that the test suite itself overrides."""

from werkzeug.security import check_password_hash, generate_password_hash

from checkout.config import load_config


def test_production_hashes_staff_passwords_with_pbkdf2_at_600000_rounds(tmp_path):
    method = load_config(tmp_path)["PASSWORD_HASH_METHOD"]
    assert method == "pbkdf2:sha256:600000"  # OWASP's figure; the suite uses 1,000 to stay fast
    stored = generate_password_hash("correct horse battery", method=method)
    assert stored.startswith("pbkdf2:sha256:600000$") and check_password_hash(stored, "correct horse battery")
