"""small_disk.py — runs a command as if the disk had room for only so many more
megabytes: a file size limit (RLIMIT_FSIZE), with SIGXFSZ ignored so that a write
past it fails (EFBIG) as a full disk's would, instead of killing the process.

The import tests use it to fail a store partway through an import."""
import resource
import signal
import subprocess


def run(args, megabytes, timeout=600):
    """Runs args under the limit; the CompletedProcess, its output as text."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (megabytes << 20, megabytes << 20))

    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit)
