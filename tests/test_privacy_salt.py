"""The pseudonymisation salt: outside the warehouse folder, owner read-only, refused when
others can read it, moved from its old place, rotated without changing who is who."""

from __future__ import annotations

import os

import pytest

from radar.core import privacy


@pytest.fixture
def wh(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.SALT_ENV, raising=False)
    return tmp_path / "data" / "radar.duckdb"


def test_salt_is_created_outside_the_warehouse_folder_owner_read_only(wh, salt_dir):
    path = privacy.ensure_salt_file(wh)
    assert path.parent == salt_dir and wh.parent not in path.parents
    assert os.stat(path).st_mode & 0o777 == 0o400
    assert len(privacy.load_salt(wh)) == 64
    assert privacy.ensure_salt_file(wh) == path  # never replaced


@pytest.mark.parametrize("mode", [0o440, 0o404, 0o644, 0o600 | 0o004])
def test_a_salt_others_can_read_is_refused_with_what_to_do(wh, mode):
    path = privacy.ensure_salt_file(wh)
    os.chmod(path, mode)
    with pytest.raises(privacy.SaltMissing, match=r"readable by group or others.*chmod 400"):
        privacy.load_salt(wh)


def test_a_salt_inside_the_warehouse_folder_is_refused(wh, monkeypatch):
    monkeypatch.setenv(privacy.SALT_DIR_ENV, str(wh.parent))
    with pytest.raises(privacy.SaltMissing, match="outside the warehouse folder"):
        privacy.ensure_salt_file(wh)


def test_an_old_salt_beside_the_warehouse_moves_out_and_keeps_pseudonyms(wh):
    wh.parent.mkdir(parents=True)
    old = privacy.legacy_salt_path(wh)
    old.write_text("0123abcd\n")
    old.chmod(0o600)
    assert privacy.load_salt(wh) == b"0123abcd"
    assert not old.exists() and privacy.salt_path(wh).exists()


def test_rotation_chains_keys_so_old_and_new_pseudonyms_agree(wh):
    privacy.ensure_salt_file(wh)
    before = privacy.author_hash("Alice", privacy.load_salt(wh))
    _, key = privacy.rotate_salt_file(wh)
    with pytest.raises(privacy.SaltMissing, match="rotation did not finish"):
        privacy.load_salt(wh)
    stored = privacy.rehash(before, key)  # what the warehouse now holds
    privacy.finish_rotation(wh)
    after = privacy.author_hash("Alice", privacy.load_salt(wh))
    assert after == stored != before
    assert os.stat(privacy.salt_path(wh)).st_mode & 0o777 == 0o400
