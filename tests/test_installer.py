"""The model installer verifies every file against its pinned size and sha256."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import ModelVerificationError, Settings
from rag.model.installer import PINNED_FILES, installed_path, is_installed, verify_model_files


@pytest.fixture(scope="module")
def installed() -> Path:
    settings = Settings()
    assert is_installed(settings.model_dir), "run 'rag model install' (make test does) before the tests"
    return installed_path(settings.model_dir)


def _mirror(source: Path, target: Path) -> None:
    """Link every pinned file of the installed model into target (cheap, no 1.2 GB copy)."""
    for name in PINNED_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).symlink_to(source / name)


def test_the_installed_model_verifies(installed: Path) -> None:
    verify_model_files(installed)


def test_a_tampered_file_is_refused(installed: Path, tmp_path: Path) -> None:
    _mirror(installed, tmp_path)
    target = tmp_path / "config.json"
    original = target.read_bytes()
    target.unlink()
    target.write_bytes(original.replace(b"768", b"769"))
    with pytest.raises(ModelVerificationError, match="config.json has sha256"):
        verify_model_files(tmp_path)


def test_a_missing_file_is_refused(installed: Path, tmp_path: Path) -> None:
    _mirror(installed, tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(ModelVerificationError, match="tokenizer.json is missing"):
        verify_model_files(tmp_path)


def test_a_truncated_file_is_refused(installed: Path, tmp_path: Path) -> None:
    _mirror(installed, tmp_path)
    target = tmp_path / "modules.json"
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data[:-1])
    with pytest.raises(ModelVerificationError, match="modules.json has"):
        verify_model_files(tmp_path)


def test_an_unverified_folder_is_not_installed(tmp_path: Path) -> None:
    assert not is_installed(tmp_path)
