"""Writing a file so that a failure never leaves a partial one: write a temporary file in
the same folder, flush it to disk, then rename it over the target (atomic on POSIX)."""
import contextlib
import os
import tempfile

__all__ = ["atomic_write"]


def _umask():
    """The process umask, read from /proc where it can be (setting it to read it, the
    portable way, briefly changes it for every thread of the process)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """``with atomic_write(path) as f: f.write(...)``: ``path`` appears complete or not at
    all (an existing file is replaced only on success)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            # mkstemp creates the file 0600; give it the mode open() would (0666 less the
            # umask), as torch.save's files have
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
