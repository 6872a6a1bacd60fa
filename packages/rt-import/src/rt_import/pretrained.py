"""A registry of pretrained models: a name maps to the file's format, the address to
download it from, its sha256 and its file name in the cache.

``load_pretrained`` never downloads: it loads the file from a local cache folder after
checking its sha256, and when the file is absent it says where to get it and where to put
it. (Downloading is left to the user's tools, so that loading a model never reaches the
network and what is loaded is always the file that was checked.)

The registry ships empty: models are added with ``register_pretrained`` by the code that
knows their address and checksum.

>>> import rt_autograd as rt, tempfile, hashlib, pathlib
>>> from rt_import import save_safetensors
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> save_safetensors({"w": rt.ones(2)}, cache / "tiny.safetensors")
>>> digest = hashlib.sha256((cache / "tiny.safetensors").read_bytes()).hexdigest()
>>> register_pretrained("tiny-doc", "https://example.org/tiny.safetensors", digest,
...                     "safetensors", "tiny.safetensors")
>>> load_pretrained("tiny-doc", cache_dir=cache)
{'w': tensor([1., 1.])}
"""
import hashlib
import os
import re

from rt_import.errors import FormatError
from rt_import.formats import FORMAT_NAMES, _load_detected

__all__ = ["PRETRAINED", "register_pretrained", "load_pretrained", "pretrained_path",
           "default_cache_dir"]

#: name -> {"format", "url", "sha256", "filename"}; add entries with register_pretrained.
PRETRAINED = {}

_SHA256 = re.compile(r"[0-9a-f]{64}")


def register_pretrained(name, url, sha256, format, filename, *, replace=False):
    """Add a model to ``PRETRAINED``: its download address ``url``, the ``sha256`` of the
    file (64 hex digits), its ``format`` (a ``detect_format`` name: 'safetensors',
    'pytorch-zip', 'pytorch-legacy', 'onnx', 'npy', 'npz') and the plain ``filename`` it has
    in the cache folder. Registering a name again with other values needs ``replace=True``
    (ValueError otherwise); the same values again are accepted.

    >>> register_pretrained("demo-net", "https://example.org/demo.onnx", "ab" * 32, "onnx",
    ...                     "demo.onnx")
    >>> PRETRAINED["demo-net"]["filename"]
    'demo.onnx'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"the name must be a non-empty str, got {name!r}")
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"url must be an address such as https://host/file, got {url!r}")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    if format not in FORMAT_NAMES:
        raise ValueError(f"format must be one of {', '.join(FORMAT_NAMES)}, got {format!r}")
    if (not isinstance(filename, str) or filename in ("", ".", "..") or "\0" in filename
            or os.path.basename(filename) != filename or "/" in filename or "\\" in filename):
        # a bare name keeps the file inside the cache folder
        raise ValueError(f"filename must be a plain file name (no folders), got {filename!r}")
    entry = {"format": format, "url": url, "sha256": sha256.lower(), "filename": filename}
    if name in PRETRAINED and PRETRAINED[name] != entry and not replace:
        raise ValueError(f"a pretrained model named {name!r} is already registered with "
                         f"{PRETRAINED[name]}; pass replace=True to change it")
    PRETRAINED[name] = entry


def default_cache_dir():
    """The cache folder used when none is given: ``$RT_IMPORT_CACHE``, else
    ``$XDG_CACHE_HOME/rt_import``, else ``~/.cache/rt_import``."""
    env = os.environ.get("RT_IMPORT_CACHE")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rt_import")


def _entry(name):
    try:
        return PRETRAINED[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(PRETRAINED)) or "none registered"
        raise KeyError(f"no pretrained model named {name!r} (known: {known})") from None


def pretrained_path(name, cache_dir=None):
    """Where ``load_pretrained(name, cache_dir)`` looks for the model's file."""
    entry = _entry(name)
    folder = default_cache_dir() if cache_dir is None else os.fspath(cache_dir)
    return os.path.join(folder, entry["filename"])


def _sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_pretrained(name, cache_dir=None):
    """Load the registered model ``name`` from ``cache_dir`` (default:
    ``default_cache_dir()``) after checking the file's sha256. This never downloads.

    Returns what the format's loader returns: a dict of name -> tensor (safetensors, npz,
    PyTorch state dicts), a tensor (npy) or an ``rt_nn.Module`` (ONNX).

    Raises KeyError for an unknown name; FileNotFoundError naming the expected path and the
    address to download the file from when it is absent; FormatError naming the expected
    and the actual sha256 when they differ, or when the file's content is not the registered
    format.

    >>> register_pretrained("absent-net", "https://example.org/absent.onnx", "cd" * 32,
    ...                     "onnx", "absent.onnx")
    >>> try:
    ...     load_pretrained("absent-net", cache_dir="/nonexistent")
    ... except FileNotFoundError as e:
    ...     print(str(e).split(";")[0])
    pretrained model 'absent-net' is not in the cache: expected the file /nonexistent/absent.onnx
    """
    entry = _entry(name)
    path = pretrained_path(name, cache_dir)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"pretrained model {name!r} is not in the cache: expected the file {path}; "
            f"download it from {entry['url']} (sha256 {entry['sha256']}) and save it there "
            "(rt_import never downloads)")
    actual = _sha256_of(path)
    if actual != entry["sha256"]:
        raise FormatError(f"pretrained model {name!r}: {path} has sha256 {actual}, expected "
                          f"{entry['sha256']}; the file is corrupt, incomplete or another "
                          f"version (download it again from {entry['url']})")
    return _load_detected(path, expected=entry["format"])
