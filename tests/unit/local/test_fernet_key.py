"""make airflow's Fernet key: one per Airflow home, shared by every component, kept across starts."""

from __future__ import annotations

from cryptography.fernet import Fernet

from sparkify.local.ui import fernet_key


def test_a_new_home_gets_one_key_that_every_start_reuses(tmp_path):
    key = fernet_key(tmp_path / "home")
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert fernet_key(tmp_path / "home") == key
    assert oct((tmp_path / "home" / "fernet.key").stat().st_mode & 0o777) == "0o600"


def test_a_home_made_before_keeps_the_key_of_its_airflow_cfg(tmp_path):
    old = Fernet.generate_key().decode()
    (tmp_path / "airflow.cfg").write_text(f"[core]\nfernet_key = {old}\n")
    assert fernet_key(tmp_path) == old
